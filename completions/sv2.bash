#!/bin/bash

__sv2_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__sv2_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__sv2_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__sv2_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_sv2() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __sv2_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    decode|encode|pool|proxy|translate|mine|tp|repl|keygen|bench|probe|jn|help)
        # Offer subcommand argument completions
        "_sv2_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'decode encode pool proxy translate mine tp repl keygen bench probe jn help' -- "${cur}"))
        ;;
    esac
}

_sv2_decode() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--file -f)
    __sv2_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--file'|'-f')
        return
        ;;
    esac
}

_sv2_encode() {
    repeating_flags=()
    non_repeating_flags=(--raw --list --version -h --help)
    repeating_options=(--tlv)
    non_repeating_options=(--json)
    __sv2_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--json')
        return
        ;;
    '--tlv')
        return
        ;;
    esac
}

_sv2_pool() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--config --listen-address --authority-public-key --authority-secret-key --cert-validity-sec --coinbase-reward-script --pool-signature --shares-per-minute --tp-address --tp-authority-public-key --version-rolling --shutdown-reconnect-address --ledger --server-id --ledger-pending-limit --jd-token-key --jd-listen-address --datadir --rpc-listen --rpc-user --rpc-password --generation-rate --fee-delta --template-interval --follow --follow-interval --monitoring-address --log-level --log-format)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--listen-address')
        return
        ;;
    '--authority-public-key')
        return
        ;;
    '--authority-secret-key')
        return
        ;;
    '--cert-validity-sec')
        return
        ;;
    '--coinbase-reward-script')
        return
        ;;
    '--pool-signature')
        return
        ;;
    '--shares-per-minute')
        return
        ;;
    '--tp-address')
        return
        ;;
    '--tp-authority-public-key')
        return
        ;;
    '--version-rolling')
        return
        ;;
    '--shutdown-reconnect-address')
        return
        ;;
    '--ledger')
        return
        ;;
    '--server-id')
        return
        ;;
    '--ledger-pending-limit')
        return
        ;;
    '--jd-token-key')
        return
        ;;
    '--jd-listen-address')
        return
        ;;
    '--datadir')
        return
        ;;
    '--rpc-listen')
        return
        ;;
    '--rpc-user')
        return
        ;;
    '--rpc-password')
        return
        ;;
    '--generation-rate')
        return
        ;;
    '--fee-delta')
        return
        ;;
    '--template-interval')
        return
        ;;
    '--follow')
        return
        ;;
    '--follow-interval')
        return
        ;;
    '--monitoring-address')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    stats)
        # Offer subcommand argument completions
        "_sv2_pool_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'stats' -- "${cur}"))
        ;;
    esac
}

_sv2_pool_stats() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--user --since --pplns-window)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--user')
        return
        ;;
    '--since')
        return
        ;;
    '--pplns-window')
        return
        ;;
    esac
}

_sv2_proxy() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=(--upstream --jd-address)
    non_repeating_options=(--config --listen-address --listen --authority-public-key --authority-secret-key --cert-validity-sec --user-identity --upstream-user --upstream-password --channel-mode --shares-per-minute --downstream-extranonce-size --jd-mode --tp-address --tp-authority-public-key --coinbase-reward-script --nominal-hashrate --datadir --rpc-listen --rpc-user --rpc-password --generation-rate --fee-delta --template-interval --follow --follow-interval --monitoring-address --log-level --log-format)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--listen-address'|'--listen')
        return
        ;;
    '--authority-public-key')
        return
        ;;
    '--authority-secret-key')
        return
        ;;
    '--cert-validity-sec')
        return
        ;;
    '--upstream')
        return
        ;;
    '--user-identity')
        return
        ;;
    '--upstream-user')
        return
        ;;
    '--upstream-password')
        return
        ;;
    '--channel-mode')
        return
        ;;
    '--shares-per-minute')
        return
        ;;
    '--downstream-extranonce-size')
        return
        ;;
    '--jd-address')
        return
        ;;
    '--jd-mode')
        return
        ;;
    '--tp-address')
        return
        ;;
    '--tp-authority-public-key')
        return
        ;;
    '--coinbase-reward-script')
        return
        ;;
    '--nominal-hashrate')
        return
        ;;
    '--datadir')
        return
        ;;
    '--rpc-listen')
        return
        ;;
    '--rpc-user')
        return
        ;;
    '--rpc-password')
        return
        ;;
    '--generation-rate')
        return
        ;;
    '--fee-delta')
        return
        ;;
    '--template-interval')
        return
        ;;
    '--follow')
        return
        ;;
    '--follow-interval')
        return
        ;;
    '--monitoring-address')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_sv2_translate() {
    repeating_flags=()
    non_repeating_flags=(--pow2-difficulty --version -h --help)
    repeating_options=(--upstream)
    non_repeating_options=(--config --listen-address --listen --user-identity --aggregate-channels --downstream-extranonce2-size --shares-per-minute --initial-difficulty --min-difficulty --max-difficulty --job-keepalive-interval-secs --max-line-length --max-clients --monitoring-address --log-level --log-format)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--listen-address'|'--listen')
        return
        ;;
    '--upstream')
        return
        ;;
    '--user-identity')
        return
        ;;
    '--aggregate-channels')
        return
        ;;
    '--downstream-extranonce2-size')
        return
        ;;
    '--shares-per-minute')
        return
        ;;
    '--initial-difficulty')
        return
        ;;
    '--min-difficulty')
        return
        ;;
    '--max-difficulty')
        return
        ;;
    '--job-keepalive-interval-secs')
        return
        ;;
    '--max-line-length')
        return
        ;;
    '--max-clients')
        return
        ;;
    '--monitoring-address')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_sv2_mine() {
    repeating_flags=()
    non_repeating_flags=(--cpu --extended --standard --require-standard-jobs --pin-threads --no-pin-threads --version -h --help)
    repeating_options=()
    non_repeating_options=(--threads --user --worker --channels --kernel --report-interval --hash-rate-limit --log-level --log-format)
    __sv2_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--threads')
        return
        ;;
    '--user')
        return
        ;;
    '--worker')
        return
        ;;
    '--channels')
        return
        ;;
    '--kernel')
        __sv2_add_completions -W 'auto'$'\n''portable'$'\n''sha-ni'$'\n''sha-ni-x2'$'\n''sha-ni-x4'$'\n''sha-ni-x4-avx512'$'\n''avx2'$'\n''avx512'
        return
        ;;
    '--report-interval')
        return
        ;;
    '--hash-rate-limit')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_sv2_tp() {
    repeating_flags=()
    non_repeating_flags=(--plaintext --version -h --help)
    repeating_options=()
    non_repeating_options=(--config --listen-address --authority-public-key --authority-secret-key --cert-validity-sec --rpc-cookie --bitcoind --datadir --rpc-listen --rpc-user --rpc-password --generation-rate --fee-delta --template-interval --follow --follow-interval --monitoring-address --log-level --log-format)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--listen-address')
        return
        ;;
    '--authority-public-key')
        return
        ;;
    '--authority-secret-key')
        return
        ;;
    '--cert-validity-sec')
        return
        ;;
    '--rpc-cookie')
        return
        ;;
    '--bitcoind')
        return
        ;;
    '--datadir')
        return
        ;;
    '--rpc-listen')
        return
        ;;
    '--rpc-user')
        return
        ;;
    '--rpc-password')
        return
        ;;
    '--generation-rate')
        return
        ;;
    '--fee-delta')
        return
        ;;
    '--template-interval')
        return
        ;;
    '--follow')
        return
        ;;
    '--follow-interval')
        return
        ;;
    '--monitoring-address')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_sv2_repl() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--history-file)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--history-file')
        return
        ;;
    esac
}

_sv2_keygen() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __sv2_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    generate|pubkey|check)
        # Offer subcommand argument completions
        "_sv2_keygen_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'generate pubkey check' -- "${cur}"))
        ;;
    esac
}

_sv2_keygen_generate() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __sv2_offer_flags_options 0
}

_sv2_keygen_pubkey() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=()
    __sv2_offer_flags_options 1
}

_sv2_keygen_check() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __sv2_offer_flags_options 1
}

_sv2_bench() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __sv2_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    codec|noise|tp|sha256d|shares|translate|proxy|ledger)
        # Offer subcommand argument completions
        "_sv2_bench_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'codec noise tp sha256d shares translate proxy ledger' -- "${cur}"))
        ;;
    esac
}

_sv2_bench_codec() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--iterations)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--iterations')
        return
        ;;
    esac
}

_sv2_bench_noise() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--handshakes --iterations)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--handshakes')
        return
        ;;
    '--iterations')
        return
        ;;
    esac
}

_sv2_bench_tp() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--clients --rounds)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--clients')
        return
        ;;
    '--rounds')
        return
        ;;
    esac
}

_sv2_bench_sha256d() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--nonces --rounds --threads --scaling-seconds)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--nonces')
        return
        ;;
    '--rounds')
        return
        ;;
    '--threads')
        return
        ;;
    '--scaling-seconds')
        return
        ;;
    esac
}

_sv2_bench_shares() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--shares --rounds --miners --seconds --monitoring-rounds)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--shares')
        return
        ;;
    '--rounds')
        return
        ;;
    '--miners')
        return
        ;;
    '--seconds')
        return
        ;;
    '--monitoring-rounds')
        return
        ;;
    esac
}

_sv2_bench_translate() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--connections --rounds --submitters --seconds)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--connections')
        return
        ;;
    '--rounds')
        return
        ;;
    '--submitters')
        return
        ;;
    '--seconds')
        return
        ;;
    esac
}

_sv2_bench_proxy() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--devices --rounds)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--devices')
        return
        ;;
    '--rounds')
        return
        ;;
    esac
}

_sv2_bench_ledger() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--shares --rounds --in-flight --postgresql --miners --seconds)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--shares')
        return
        ;;
    '--rounds')
        return
        ;;
    '--in-flight')
        return
        ;;
    '--postgresql')
        return
        ;;
    '--miners')
        return
        ;;
    '--seconds')
        return
        ;;
    esac
}

_sv2_probe() {
    repeating_flags=()
    non_repeating_flags=(--plaintext --json --list --version -h --help)
    repeating_options=(--only)
    non_repeating_options=(--serve --tp-address --tp-authority-public-key --coinbase-reward-script --shares-per-minute --reconnect-after --connections --authority-public-key --authority-secret-key --cert-validity-sec --datadir --rpc-listen --rpc-user --rpc-password --generation-rate --fee-delta --template-interval --follow --follow-interval --log-level --log-format --protocol --timeout --hash-budget)
    __sv2_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--serve')
        return
        ;;
    '--tp-address')
        return
        ;;
    '--tp-authority-public-key')
        return
        ;;
    '--coinbase-reward-script')
        return
        ;;
    '--shares-per-minute')
        return
        ;;
    '--reconnect-after')
        return
        ;;
    '--connections')
        return
        ;;
    '--authority-public-key')
        return
        ;;
    '--authority-secret-key')
        return
        ;;
    '--cert-validity-sec')
        return
        ;;
    '--datadir')
        return
        ;;
    '--rpc-listen')
        return
        ;;
    '--rpc-user')
        return
        ;;
    '--rpc-password')
        return
        ;;
    '--generation-rate')
        return
        ;;
    '--fee-delta')
        return
        ;;
    '--template-interval')
        return
        ;;
    '--follow')
        return
        ;;
    '--follow-interval')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    '--protocol')
        __sv2_add_completions -W 'mining'$'\n''template-distribution'$'\n''job-declaration'
        return
        ;;
    '--only')
        return
        ;;
    '--timeout')
        return
        ;;
    '--hash-budget')
        return
        ;;
    esac
}

_sv2_jn() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=(--config --listen-address --authority-public-key --authority-secret-key --cert-validity-sec --coinbase-reward-script --jd-token-key --bitcoind --rpc-cookie --token-lifetime --log-level --log-format)
    __sv2_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--config')
        return
        ;;
    '--listen-address')
        return
        ;;
    '--authority-public-key')
        return
        ;;
    '--authority-secret-key')
        return
        ;;
    '--cert-validity-sec')
        return
        ;;
    '--coinbase-reward-script')
        return
        ;;
    '--jd-token-key')
        return
        ;;
    '--bitcoind')
        return
        ;;
    '--rpc-cookie')
        return
        ;;
    '--token-lifetime')
        return
        ;;
    '--log-level')
        __sv2_add_completions -W 'trace'$'\n''debug'$'\n''info'$'\n''notice'$'\n''warning'$'\n''error'$'\n''critical'
        return
        ;;
    '--log-format')
        __sv2_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_sv2_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __sv2_offer_flags_options -1
}

complete -o filenames -F _sv2 sv2
