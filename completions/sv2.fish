function __sv2_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __sv2_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __sv2_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __sv2_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __sv2_parse_tokens -S
    set -l unparsed_tokens (__sv2_tokens -pc)
    switch $unparsed_tokens[1]
    case 'sv2'
        __sv2_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'decode'
            __sv2_parse_subcommand -r 1 'f/file=' 'json' 'version' 'h/help'
        case 'encode'
            __sv2_parse_subcommand -r 1 'json=' 'tlv=+' 'raw' 'list' 'version' 'h/help'
        case 'pool'
            __sv2_parse_subcommand 0 'config=' 'listen-address=' 'authority-public-key=' 'authority-secret-key=' 'cert-validity-sec=' 'coinbase-reward-script=' 'pool-signature=' 'shares-per-minute=' 'tp-address=' 'tp-authority-public-key=' 'version-rolling=' 'shutdown-reconnect-address=' 'ledger=' 'server-id=' 'ledger-pending-limit=' 'jd-token-key=' 'jd-listen-address=' 'datadir=' 'rpc-listen=' 'rpc-user=' 'rpc-password=' 'generation-rate=' 'fee-delta=' 'template-interval=' 'follow=' 'follow-interval=' 'monitoring-address=' 'log-level=' 'log-format=' 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'stats'
                __sv2_parse_subcommand 0 'user=' 'since=' 'pplns-window=' 'json' 'version' 'h/help'
            end
        case 'proxy'
            __sv2_parse_subcommand 0 'config=' 'listen-address=' 'authority-public-key=' 'authority-secret-key=' 'cert-validity-sec=' 'upstream=+' 'user-identity=' 'upstream-user=' 'upstream-password=' 'channel-mode=' 'shares-per-minute=' 'downstream-extranonce-size=' 'jd-address=+' 'jd-mode=' 'tp-address=' 'tp-authority-public-key=' 'coinbase-reward-script=' 'nominal-hashrate=' 'datadir=' 'rpc-listen=' 'rpc-user=' 'rpc-password=' 'generation-rate=' 'fee-delta=' 'template-interval=' 'follow=' 'follow-interval=' 'monitoring-address=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'translate'
            __sv2_parse_subcommand 0 'config=' 'listen-address=' 'upstream=+' 'user-identity=' 'aggregate-channels=' 'downstream-extranonce2-size=' 'shares-per-minute=' 'initial-difficulty=' 'min-difficulty=' 'max-difficulty=' 'pow2-difficulty' 'job-keepalive-interval-secs=' 'max-line-length=' 'max-clients=' 'monitoring-address=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'mine'
            __sv2_parse_subcommand 1 'cpu' 'threads=' 'user=' 'worker=' 'extended' 'standard' 'channels=' 'require-standard-jobs' 'kernel=' 'pin-threads' 'no-pin-threads' 'report-interval=' 'hash-rate-limit=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'tp'
            __sv2_parse_subcommand 0 'config=' 'listen-address=' 'authority-public-key=' 'authority-secret-key=' 'cert-validity-sec=' 'plaintext' 'rpc-cookie=' 'bitcoind=' 'datadir=' 'rpc-listen=' 'rpc-user=' 'rpc-password=' 'generation-rate=' 'fee-delta=' 'template-interval=' 'follow=' 'follow-interval=' 'monitoring-address=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'repl'
            __sv2_parse_subcommand 0 'history-file=' 'version' 'h/help'
        case 'keygen'
            __sv2_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'generate'
                __sv2_parse_subcommand 0 'json' 'version' 'h/help'
            case 'pubkey'
                __sv2_parse_subcommand 1 'json' 'version' 'h/help'
            case 'check'
                __sv2_parse_subcommand 1 'version' 'h/help'
            end
        case 'bench'
            __sv2_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'codec'
                __sv2_parse_subcommand 0 'iterations=' 'version' 'h/help'
            case 'noise'
                __sv2_parse_subcommand 0 'handshakes=' 'iterations=' 'version' 'h/help'
            case 'tp'
                __sv2_parse_subcommand 0 'clients=' 'rounds=' 'version' 'h/help'
            case 'sha256d'
                __sv2_parse_subcommand 0 'nonces=' 'rounds=' 'threads=' 'scaling-seconds=' 'version' 'h/help'
            case 'shares'
                __sv2_parse_subcommand 0 'shares=' 'rounds=' 'miners=' 'seconds=' 'monitoring-rounds=' 'version' 'h/help'
            case 'translate'
                __sv2_parse_subcommand 0 'connections=' 'rounds=' 'submitters=' 'seconds=' 'version' 'h/help'
            case 'proxy'
                __sv2_parse_subcommand 0 'devices=' 'rounds=' 'version' 'h/help'
            case 'ledger'
                __sv2_parse_subcommand 0 'shares=' 'rounds=' 'in-flight=' 'postgresql=' 'miners=' 'seconds=' 'version' 'h/help'
            end
        case 'probe'
            __sv2_parse_subcommand 1 'serve=' 'tp-address=' 'tp-authority-public-key=' 'coinbase-reward-script=' 'shares-per-minute=' 'reconnect-after=' 'connections=' 'authority-public-key=' 'authority-secret-key=' 'cert-validity-sec=' 'datadir=' 'rpc-listen=' 'rpc-user=' 'rpc-password=' 'generation-rate=' 'fee-delta=' 'template-interval=' 'follow=' 'follow-interval=' 'log-level=' 'log-format=' 'protocol=' 'plaintext' 'json' 'only=+' 'list' 'timeout=' 'hash-budget=' 'version' 'h/help'
        case 'jn'
            __sv2_parse_subcommand 0 'config=' 'listen-address=' 'authority-public-key=' 'authority-secret-key=' 'cert-validity-sec=' 'coinbase-reward-script=' 'jd-token-key=' 'bitcoind=' 'rpc-cookie=' 'token-lifetime=' 'log-level=' 'log-format=' 'version' 'h/help'
        case 'help'
            __sv2_parse_subcommand -r 1 'version'
        end
    end
end

function __sv2_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __sv2_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __sv2_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __sv2_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__sv2_tokens -p)
    if test -z "$(__sv2_tokens -t)"
        set -l index (count (__sv2_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'sv2' -f
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'decode' -d 'Decode hex Sv2 frames into readable messages.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'encode' -d 'Build an Sv2 frame from a message name and its fields.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'pool' -d 'Sv2 pool: standard, extended and group channels, vardiff, share validation, blocks to the template provider.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'proxy' -d 'Mining proxy: many Sv2 devices downstream, one connection with group or extended channels upstream.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'translate' -d 'Translator: Stratum V1 firmware downstream, Sv2 extended channels upstream.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'mine' -d 'CPU miner: hash a Stratum V2 or V1 pool\'s jobs on this machine\'s cores.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'tp' -d 'Template Provider: block templates over Sv2 from an embedded regtest node or Bitcoin Core.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'repl' -d 'Interactive shell to send Sv2 messages to a peer and watch the answers.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'keygen' -d 'Generate, derive and check authority keys in SRI\'s base58check text forms.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'bench' -d 'Run benchmarks; each prints our figure, a reference measured in the same run, and the ratio.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'probe' -d 'Grade an Sv2 server, or the clients of a grading pool, against the spec, check by check.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'jn' -d 'Job Declarator Server (spec 6): mining job tokens and declared jobs for a pool\'s customers.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 decode" f file' -l 'file' -s 'f' -d 'Read the hex from this file.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 decode" json' -l 'json' -d 'Print one JSON object per frame, field names as in the spec.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 decode" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 decode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 encode" json' -l 'json' -d 'JSON input: an object, a file name, or - for standard input.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 encode"' -l 'tlv' -d 'Append a TLV field (repeatable).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 encode" raw' -l 'raw' -d 'Write the frame bytes instead of hex.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 encode" list' -l 'list' -d 'List the messages and their fields, then exit.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 encode" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 encode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" config' -l 'config' -d 'TOML configuration file.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" listen-address' -l 'listen-address' -d 'HOST:PORT miners connect to (default 0.0.0.0:3333).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" authority-public-key' -l 'authority-public-key' -d 'Authority public key (checked against the secret key).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" authority-secret-key' -l 'authority-secret-key' -d 'Authority secret key that signs the Noise certificates.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" cert-validity-sec' -l 'cert-validity-sec' -d 'Certificate validity in seconds (default 3600).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" coinbase-reward-script' -l 'coinbase-reward-script' -d 'Where block rewards go: an address or an addr()/raw() descriptor.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" pool-signature' -l 'pool-signature' -d 'The pool\'s tag in the coinbase (default sv2).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" shares-per-minute' -l 'shares-per-minute' -d 'Shares per minute each channel aims at (default 6).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" tp-address' -l 'tp-address' -d 'Template provider HOST:PORT (default: the embedded regtest node in-process).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" tp-authority-public-key' -l 'tp-authority-public-key' -d 'The template provider\'s authority public key.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" version-rolling' -l 'version-rolling' -d 'Allow version rolling: true or false (default true).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" shutdown-reconnect-address' -l 'shutdown-reconnect-address' -d 'On shutdown, send miners to this HOST:PORT (Reconnect) instead of just closing (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" ledger' -l 'ledger' -d 'Share ledger: sqlite:PATH, postgresql://USER:PASS@HOST:PORT/DB or none (default sqlite:DATADIR/ledger.sqlite with --datadir).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" server-id' -l 'server-id' -d 'This instance\'s id among pools sharing a ledger, 0-65535 (default 0).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" ledger-pending-limit' -l 'ledger-pending-limit' -d 'Unwritten shares held at most while the ledger\'s database fails (default 1000000).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" jd-token-key' -l 'jd-token-key' -d 'Take custom jobs (SetCustomMiningJob) whose mining job tokens this key, shared with the job declarator, authenticates (32 bytes as hex; default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" jd-listen-address' -l 'jd-listen-address' -d 'Run the job declarator (sv2 jn) in-process on the embedded node at HOST:PORT, sharing the token key and reward script (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" datadir' -l 'datadir' -d 'Data directory of the embedded regtest node (default ~/.sv2/regtest; for sv2 proxy ~/.sv2/proxy-regtest).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" rpc-listen' -l 'rpc-listen' -d 'Serve the embedded node\'s JSON-RPC on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" rpc-user' -l 'rpc-user' -d 'RPC user (accepted by --rpc-listen; sv2 tp also sends it to --bitcoind).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" rpc-password' -l 'rpc-password' -d 'RPC password, likewise.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" generation-rate' -l 'generation-rate' -d 'Transactions the embedded node\'s generator adds per second (0 turns it off; default 2).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" fee-delta' -l 'fee-delta' -d 'Extra fees in satoshis that justify a new template on the same tip (default 1000).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" template-interval' -l 'template-interval' -d 'Minimum seconds between two templates on the same tip (default 30).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" follow' -l 'follow' -d 'Keep the embedded node on another node\'s chain: its JSON-RPC, http://USER:PASSWORD@HOST:PORT.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" follow-interval' -l 'follow-interval' -d 'Seconds between two looks at the followed node\'s chain (default 1).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" monitoring-address' -l 'monitoring-address' -d 'Serve SRI\'s monitoring API and Prometheus metrics (/metrics) over HTTP on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 pool" -eq 1' -fa 'stats' -d 'Per-account and per-worker accepted shares, work, rejections and blocks from a pool\'s share ledger.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool stats" user' -l 'user' -d 'Only this account.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool stats" since' -l 'since' -d 'Only since this time: Unix seconds, an ISO 8601 time (2026-12-07T04:00:00Z), or an age such as 90s, 30m, 12h, 7d.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool stats" pplns-window' -l 'pplns-window' -d 'Also each account\'s fraction of the work of the newest N shares.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool stats" json' -l 'json' -d 'Print JSON.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool stats" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 pool stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" config' -l 'config' -d 'TOML configuration file.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" listen listen-address' -l 'listen-address' -l 'listen' -d 'HOST:PORT devices connect to (default 0.0.0.0:34254).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" authority-public-key' -l 'authority-public-key' -d 'Authority public key (checked against the secret key).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" authority-secret-key' -l 'authority-secret-key' -d 'Authority secret key that signs the Noise certificates.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" cert-validity-sec' -l 'cert-validity-sec' -d 'Certificate validity in seconds (default 3600).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy"' -l 'upstream' -d 'A pool, stratum2+tcp://HOST:PORT/<authority public key>; repeat in order of preference.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" user-identity' -l 'user-identity' -d 'user_identity of the upstream channel in aggregate mode (default sv2-proxy).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" upstream-user' -l 'upstream-user' -d 'With stratum+tcp:// pools: the user name for channels that give no user_identity (default sv2-proxy).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" upstream-password' -l 'upstream-password' -d 'With stratum+tcp:// pools: the password of mining.authorize (default x).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" channel-mode' -l 'channel-mode' -d 'group (default): each device channel upstream, grouped by the pool; aggregate: one extended channel.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" shares-per-minute' -l 'shares-per-minute' -d 'Aggregate mode: shares per minute each device\'s target aims at (default 6).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" downstream-extranonce-size' -l 'downstream-extranonce-size' -d 'Aggregate mode: extranonce bytes the devices share inside the upstream channel (8-32, default 16).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy"' -l 'jd-address' -d 'The pool\'s job declarator, HOST:PORT/<authority public key>: mine own templates as custom jobs (default off); one per --upstream in their order, or one for all.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" jd-mode' -l 'jd-mode' -d 'With --jd-address: full-template (default) or coinbase-only.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" tp-address' -l 'tp-address' -d 'With --jd-address: the miner\'s template provider HOST:PORT (default: the embedded regtest node).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" tp-authority-public-key' -l 'tp-authority-public-key' -d 'With --jd-address: the template provider\'s authority public key.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" coinbase-reward-script' -l 'coinbase-reward-script' -d 'With --jd-address: where solo blocks pay (an address or an addr()/raw() descriptor).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" nominal-hashrate' -l 'nominal-hashrate' -d 'With --jd-address: the hash rate announced on the pool\'s channel (default 1e12).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" datadir' -l 'datadir' -d 'Data directory of the embedded regtest node (default ~/.sv2/regtest; for sv2 proxy ~/.sv2/proxy-regtest).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" rpc-listen' -l 'rpc-listen' -d 'Serve the embedded node\'s JSON-RPC on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" rpc-user' -l 'rpc-user' -d 'RPC user (accepted by --rpc-listen; sv2 tp also sends it to --bitcoind).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" rpc-password' -l 'rpc-password' -d 'RPC password, likewise.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" generation-rate' -l 'generation-rate' -d 'Transactions the embedded node\'s generator adds per second (0 turns it off; default 2).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" fee-delta' -l 'fee-delta' -d 'Extra fees in satoshis that justify a new template on the same tip (default 1000).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" template-interval' -l 'template-interval' -d 'Minimum seconds between two templates on the same tip (default 30).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" follow' -l 'follow' -d 'Keep the embedded node on another node\'s chain: its JSON-RPC, http://USER:PASSWORD@HOST:PORT.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" follow-interval' -l 'follow-interval' -d 'Seconds between two looks at the followed node\'s chain (default 1).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" monitoring-address' -l 'monitoring-address' -d 'Serve SRI\'s monitoring API and Prometheus metrics (/metrics) over HTTP on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 proxy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" config' -l 'config' -d 'TOML configuration file.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" listen listen-address' -l 'listen-address' -l 'listen' -d 'HOST:PORT Sv1 miners connect to (default 0.0.0.0:34255).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate"' -l 'upstream' -d 'A pool, stratum2+tcp://HOST:PORT/<authority public key>; repeat in order of preference.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" user-identity' -l 'user-identity' -d 'user_identity of the upstream channel (default sv2-translator).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" aggregate-channels' -l 'aggregate-channels' -d 'true: one upstream channel for all miners (default); false: one per miner.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" downstream-extranonce2-size' -l 'downstream-extranonce2-size' -d 'Bytes of extranonce2 each miner rolls (default 4; cgminer takes at most 8).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" shares-per-minute' -l 'shares-per-minute' -d 'Shares per minute each miner\'s difficulty aims at (default 6).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" initial-difficulty' -l 'initial-difficulty' -d 'Difficulty a miner starts at (default 1).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" min-difficulty' -l 'min-difficulty' -d 'Lowest difficulty (default 1e-8).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" max-difficulty' -l 'max-difficulty' -d 'Highest difficulty (default 1e15).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" pow2-difficulty' -l 'pow2-difficulty' -d 'Round difficulties down to powers of two (old firmware).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" job-keepalive-interval-secs' -l 'job-keepalive-interval-secs' -d 'Seconds without a new job before the current one gets a fresh ntime (default 60).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" max-line-length' -l 'max-line-length' -d 'Longest line a miner may send, in bytes (default 16384).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" max-clients' -l 'max-clients' -d 'Most miners connected at once (default 100000).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" monitoring-address' -l 'monitoring-address' -d 'Serve SRI\'s monitoring API and Prometheus metrics (/metrics) over HTTP on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 translate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" cpu' -l 'cpu' -d 'Mine on the CPU (required: the only backend).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" threads' -l 'threads' -d 'Hashing threads (default: the number of cores).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" user' -l 'user' -d 'user_identity of the channels (Stratum V1: the mining.authorize user): the pool account or worker name.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" worker' -l 'worker' -d 'Worker name for extension 0x0002 (worker-specific hashrate tracking), requested on extended channels and sent with every share once the pool confirms it (default: --user after its first dot, else --user; \'\' requests no extension).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" extended' -l 'extended' -d 'Open extended channels and roll an extranonce in the coinbase.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" standard' -l 'standard' -d 'Open standard channels: header-only mining on merkle roots the pool fixes.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" channels' -l 'channels' -d 'Channels to open; each is mined by its share of the threads.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" require-standard-jobs' -l 'require-standard-jobs' -d 'Set REQUIRES_STANDARD_JOBS in SetupConnection (with --standard).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" kernel' -l 'kernel' -d 'SHA-256d kernel: auto (the fastest the CPU has), portable, sha-ni, sha-ni-x2, sha-ni-x4, sha-ni-x4-avx512, avx2 or avx512.' -rfka 'auto portable sha-ni sha-ni-x2 sha-ni-x4 sha-ni-x4-avx512 avx2 avx512'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" pin-threads' -l 'pin-threads' -d 'Pin hashing thread t to CPU t % CPUs (Linux; measured steadier scaling over cores).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" no-pin-threads' -l 'no-pin-threads' -d 'Pin hashing thread t to CPU t % CPUs (Linux; measured steadier scaling over cores).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" report-interval' -l 'report-interval' -d 'Seconds between two hash rate lines.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" hash-rate-limit' -l 'hash-rate-limit' -d 'Hashes per second at most, over all threads (default: no limit); announced as the nominal hash rate. For regtest tests: blocks then come at the pace of the limit.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 mine" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" config' -l 'config' -d 'TOML configuration file.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" listen-address' -l 'listen-address' -d 'Template Distribution listen HOST:PORT (default 127.0.0.1:8442).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" authority-public-key' -l 'authority-public-key' -d 'Authority public key (checked against the secret key).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" authority-secret-key' -l 'authority-secret-key' -d 'Authority secret key that signs the Noise certificates.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" cert-validity-sec' -l 'cert-validity-sec' -d 'Certificate validity in seconds (default 3600).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" plaintext' -l 'plaintext' -d 'Serve plaintext instead of Noise (local testing only).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" rpc-cookie' -l 'rpc-cookie' -d 'bitcoind\'s cookie file (with --bitcoind).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" bitcoind' -l 'bitcoind' -d 'Bitcoin Core\'s RPC, http://HOST:PORT, instead of the embedded node.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" datadir' -l 'datadir' -d 'Data directory of the embedded regtest node (default ~/.sv2/regtest; for sv2 proxy ~/.sv2/proxy-regtest).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" rpc-listen' -l 'rpc-listen' -d 'Serve the embedded node\'s JSON-RPC on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" rpc-user' -l 'rpc-user' -d 'RPC user (accepted by --rpc-listen; sv2 tp also sends it to --bitcoind).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" rpc-password' -l 'rpc-password' -d 'RPC password, likewise.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" generation-rate' -l 'generation-rate' -d 'Transactions the embedded node\'s generator adds per second (0 turns it off; default 2).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" fee-delta' -l 'fee-delta' -d 'Extra fees in satoshis that justify a new template on the same tip (default 1000).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" template-interval' -l 'template-interval' -d 'Minimum seconds between two templates on the same tip (default 30).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" follow' -l 'follow' -d 'Keep the embedded node on another node\'s chain: its JSON-RPC, http://USER:PASSWORD@HOST:PORT.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" follow-interval' -l 'follow-interval' -d 'Seconds between two looks at the followed node\'s chain (default 1).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" monitoring-address' -l 'monitoring-address' -d 'Serve SRI\'s monitoring API and Prometheus metrics (/metrics) over HTTP on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 tp" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 repl" history-file' -l 'history-file' -d 'History file for interactive use.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 repl" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 repl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 keygen" -eq 1' -fa 'generate' -d 'Print a fresh authority key pair (the default).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 keygen" -eq 1' -fa 'pubkey' -d 'Print the authority public key of a secret key.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 keygen" -eq 1' -fa 'check' -d 'Check whether a string is a valid authority public key or secret key.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen generate" json' -l 'json' -d 'Print {"authority_public_key": ..., "authority_secret_key": ...} as JSON.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen generate" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen generate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen pubkey" json' -l 'json' -d 'Print {"authority_public_key": ...} as JSON.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen pubkey" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen pubkey" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen check" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 keygen check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'codec' -d 'ns per decode/encode and heap allocations per message, next to a plain copy of the same bytes.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'noise' -d 'µs per Noise handshake and ns per encrypted frame round trip, next to their raw primitives.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'tp' -d 'SubmitSolution to NewTemplate + SetNewPrevHash at N clients, next to the bare fan-out of the same frames.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'sha256d' -d 'MH/s of each SHA-256d nonce-search kernel on one core, next to a one-shot SHA256d per nonce; thread scaling.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'shares' -d 'Validated shares per second per core (next to the bare SHA-256d of the same headers), and end to end over Noise.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'translate' -d 'N Sv1 connections on one sv2 translate (memory, job fan-out, share round trips), next to a bare Sv1 echo server.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'proxy' -d 'N standard-channel devices behind one sv2 proxy (job fan-out, upstream bytes per job, memory), next to N direct connections.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_positional "sv2 bench" -eq 1' -fa 'ledger' -d 'Committed shares per second into SQLite (and PostgreSQL), and the share round trip with the ledger on vs off.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench codec" iterations' -l 'iterations' -d 'Calls per timing round.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench codec" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench codec" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench noise" handshakes' -l 'handshakes' -d 'Handshakes (and elliptic-curve primitive calls) per timing round.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench noise" iterations' -l 'iterations' -d 'Frame round trips (and hash or AEAD calls) per timing round; 64 KiB frames use a hundredth.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench noise" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench noise" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench tp" clients' -l 'clients' -d 'Connected clients.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench tp" rounds' -l 'rounds' -d 'Rounds of each measurement.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench tp" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench tp" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench sha256d" nonces' -l 'nonces' -d 'Nonces hashed per timing round by each kernel (the portable kernel and the reference hash a 16th).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench sha256d" rounds' -l 'rounds' -d 'Timing rounds; the median is reported.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench sha256d" threads' -l 'threads' -d 'Most threads of the scaling table (default: the CPUs this process may run on).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench sha256d" scaling-seconds' -l 'scaling-seconds' -d 'Seconds each row of the scaling table hashes.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench sha256d" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench sha256d" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" shares' -l 'shares' -d 'Shares per round in part 1.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" rounds' -l 'rounds' -d 'Rounds of part 1.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" miners' -l 'miners' -d 'Simulated miners in part 2 (0 skips it).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" seconds' -l 'seconds' -d 'Seconds of part 2, and of each round of part 3.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" monitoring-rounds' -l 'monitoring-rounds' -d 'Rounds of part 3, monitoring off and on alternating (0 skips it).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench shares" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench translate" connections' -l 'connections' -d 'Sv1 connections.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench translate" rounds' -l 'rounds' -d 'Fan-out rounds.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench translate" submitters' -l 'submitters' -d 'Connections that keep a mining.submit in flight.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench translate" seconds' -l 'seconds' -d 'Seconds of share round trips.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench translate" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench translate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench proxy" devices' -l 'devices' -d 'Devices (one connection and one standard channel each).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench proxy" rounds' -l 'rounds' -d 'Fan-out rounds.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench proxy" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench proxy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" shares' -l 'shares' -d 'Shares committed per round in part 1.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" rounds' -l 'rounds' -d 'Rounds of part 1 (the median is printed).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" in-flight' -l 'in-flight' -d 'Shares handed to the writer and not yet acknowledged, at most.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" postgresql' -l 'postgresql' -d 'A PostgreSQL database for part 1 (postgresql://USER:PASS@HOST:PORT/DB); default $SV2_BENCH_POSTGRESQL.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" miners' -l 'miners' -d 'Simulated miners in part 2 (0 skips it).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" seconds' -l 'seconds' -d 'Seconds of each part 2 run.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 bench ledger" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" serve' -l 'serve' -d 'Act as a spec-strict pool on HOST:PORT and grade every client that connects.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" tp-address' -l 'tp-address' -d 'Template provider HOST:PORT (default: the embedded regtest node in-process).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" tp-authority-public-key' -l 'tp-authority-public-key' -d 'The template provider\'s authority public key.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" coinbase-reward-script' -l 'coinbase-reward-script' -d 'Where block rewards go (required with --tp-address).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" shares-per-minute' -l 'shares-per-minute' -d 'Shares per minute each channel aims at (default 6).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" reconnect-after' -l 'reconnect-after' -d 'Send each client Reconnect (to this server) this many seconds after its setup, to grade whether it follows.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" connections' -l 'connections' -d 'Stop after grading this many connections (default: run until SIGINT or SIGTERM).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" authority-public-key' -l 'authority-public-key' -d 'Authority public key (checked against the secret key).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" authority-secret-key' -l 'authority-secret-key' -d 'Authority secret key that signs the Noise certificates.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" cert-validity-sec' -l 'cert-validity-sec' -d 'Certificate validity in seconds (default 3600).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" datadir' -l 'datadir' -d 'Data directory of the embedded regtest node (default ~/.sv2/regtest; for sv2 proxy ~/.sv2/proxy-regtest).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" rpc-listen' -l 'rpc-listen' -d 'Serve the embedded node\'s JSON-RPC on this HOST:PORT (default off).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" rpc-user' -l 'rpc-user' -d 'RPC user (accepted by --rpc-listen; sv2 tp also sends it to --bitcoind).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" rpc-password' -l 'rpc-password' -d 'RPC password, likewise.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" generation-rate' -l 'generation-rate' -d 'Transactions the embedded node\'s generator adds per second (0 turns it off; default 2).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" fee-delta' -l 'fee-delta' -d 'Extra fees in satoshis that justify a new template on the same tip (default 1000).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" template-interval' -l 'template-interval' -d 'Minimum seconds between two templates on the same tip (default 30).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" follow' -l 'follow' -d 'Keep the embedded node on another node\'s chain: its JSON-RPC, http://USER:PASSWORD@HOST:PORT.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" follow-interval' -l 'follow-interval' -d 'Seconds between two looks at the followed node\'s chain (default 1).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" protocol' -l 'protocol' -d 'The subprotocol the endpoint serves: mining, template-distribution or job-declaration (default mining).' -rfka 'mining template-distribution job-declaration'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" plaintext' -l 'plaintext' -d 'Connect without Noise (only for servers configured for plaintext).'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" json' -l 'json' -d 'Print the report as one JSON object.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe"' -l 'only' -d 'Run only these checks (names as --list prints them).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" list' -l 'list' -d 'List the checks for --protocol and exit.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" timeout' -l 'timeout' -d 'Seconds to wait for an answer the spec requires (default 5).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" hash-budget' -l 'hash-budget' -d 'Nonces tried per share before share checks are skipped (default 33554432).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 probe" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" config' -l 'config' -d 'TOML configuration file.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" listen-address' -l 'listen-address' -d 'HOST:PORT job declarator clients connect to (default 0.0.0.0:34264).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" authority-public-key' -l 'authority-public-key' -d 'Authority public key (checked against the secret key).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" authority-secret-key' -l 'authority-secret-key' -d 'Authority secret key that signs the Noise certificates.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" cert-validity-sec' -l 'cert-validity-sec' -d 'Certificate validity in seconds (default 3600).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" coinbase-reward-script' -l 'coinbase-reward-script' -d 'The pool\'s payout address or addr()/raw() descriptor.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" jd-token-key' -l 'jd-token-key' -d 'The key tokens are made with, shared with sv2 pool --jd-token-key (32 bytes as hex).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" bitcoind' -l 'bitcoind' -d 'The pool\'s node\'s JSON-RPC: http://USER:PASSWORD@HOST:PORT, or http://HOST:PORT with --rpc-cookie.' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" rpc-cookie' -l 'rpc-cookie' -d 'The node\'s cookie file (with --bitcoind http://HOST:PORT).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" token-lifetime' -l 'token-lifetime' -d 'Seconds a token stays valid, 10-86400 (default 600).' -rfka ''
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" log-level' -l 'log-level' -d 'Lowest level logged (default info).' -rfka 'trace debug info notice warning error critical'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" log-format' -l 'log-format' -d 'Log lines as text (default) or json (one object per line).' -rfka 'text json'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" version' -l 'version' -d 'Show the version.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 jn" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'sv2' -n '__sv2_should_offer_completions_for_flags_or_options "sv2 help" version' -l 'version' -d 'Show the version.'
