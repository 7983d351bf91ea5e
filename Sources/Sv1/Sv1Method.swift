/// The method names of Stratum V1 (and of BIP310's mining.configure) as they appear in `method`.
public enum Sv1Method {
    /// Miner → pool: open a session; the result carries extranonce1 and extranonce2_size.
    public static let subscribe = "mining.subscribe"
    /// Miner → pool: authorize a worker with a user name and password.
    public static let authorize = "mining.authorize"
    /// Miner → pool: negotiate extensions such as version rolling (BIP310).
    public static let configure = "mining.configure"
    /// Miner → pool: a share.
    public static let submit = "mining.submit"
    /// Miner → pool: the difficulty the miner would like.
    public static let suggestDifficulty = "mining.suggest_difficulty"
    /// Miner → pool: the miner accepts mining.set_extranonce.
    public static let extranonceSubscribe = "mining.extranonce.subscribe"
    /// Pool → miner: a job.
    public static let notify = "mining.notify"
    /// Pool → miner: the share difficulty from the next job on.
    public static let setDifficulty = "mining.set_difficulty"
    /// Pool → miner: new extranonce1 and extranonce2_size.
    public static let setExtranonce = "mining.set_extranonce"
    /// Pool → miner: a new version-rolling mask (BIP310).
    public static let setVersionMask = "mining.set_version_mask"
}
