#!/usr/bin/env bash
# The nightly refresh of the test environments: `sanitize refresh` with a log file per night
# and the exit code passed on, for cron and systemd. Quiet when it works; when it fails it
# prints the reason and the log's name on stderr (cron mails it, systemd marks the unit failed).
#
# Settings (environment variables; all optional):
#   SANITIZE_HOME        folder holding sanitize.toml and rules/ (default: this script's parent)
#   SANITIZE_PROFILE     profile of sanitize.toml (default: default)
#   SANITIZE_ENV_FILE    file of KEY=value lines loaded first: PROD_REPLICA_URL, SANITIZE_SECRET,
#                        target URLs... (owner-only, e.g. /etc/sanitize/env; systemd units can
#                        use EnvironmentFile= instead)
#   SANITIZE_BIN         the sanitize command (default: $SANITIZE_HOME/.venv/bin/sanitize, else
#                        sanitize on PATH)
#   SANITIZE_LOG_DIR     where the logs go (default: $SANITIZE_HOME/logs)
#   SANITIZE_LOG_FORMAT  text (timestamped lines) or json (one JSON object per line)
#   SANITIZE_LOG_DAYS    logs older than this many days are deleted (default: 30)
# Arguments are passed on to `sanitize refresh` (e.g. --keep 7).
#
# Exit codes: those of `sanitize refresh`: 0 every target refreshed, 1 a step failed (targets
# that were not refreshed keep their previous data; a second run while one is running is
# refused with 1 too), 2 bad input (config, rules, a missing variable); 3 this script could not
# start (no sanitize command, no log folder).
set -uo pipefail
umask 077

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${SANITIZE_HOME:-$(dirname "$here")}"
profile="${SANITIZE_PROFILE:-default}"
log_dir="${SANITIZE_LOG_DIR:-$home/logs}"
log_format="${SANITIZE_LOG_FORMAT:-text}"
log_days="${SANITIZE_LOG_DAYS:-30}"

fail_start() {
    echo "nightly-refresh: $*" >&2
    exit 3
}

cd "$home" || fail_start "cannot enter SANITIZE_HOME $home"
if [[ -n "${SANITIZE_ENV_FILE:-}" ]]; then
    [[ -r "$SANITIZE_ENV_FILE" ]] || fail_start "cannot read SANITIZE_ENV_FILE $SANITIZE_ENV_FILE"
    set -a
    # shellcheck disable=SC1090
    . "$SANITIZE_ENV_FILE"
    set +a
fi
if [[ -n "${SANITIZE_BIN:-}" ]]; then
    bin="$SANITIZE_BIN"
elif [[ -x "$home/.venv/bin/sanitize" ]]; then
    bin="$home/.venv/bin/sanitize"
else
    bin="$(command -v sanitize)" || fail_start "no sanitize command (set SANITIZE_BIN)"
fi
mkdir -p "$log_dir" || fail_start "cannot create the log folder $log_dir"

log="$log_dir/refresh-$(date -u +%Y%m%dT%H%M%SZ)-$$.log"
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) sanitize refresh --profile $profile $* (host $(hostname), pid $$, in $home)"
} >>"$log" || fail_start "cannot write the log $log"
ln -sfn "$(basename "$log")" "$log_dir/refresh-last.log"

"$bin" --log-format "$log_format" refresh --profile "$profile" "$@" >>"$log" 2>&1
code=$?
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) exit $code" >>"$log"

find "$log_dir" -maxdepth 1 -name 'refresh-*.log' -type f -mtime "+$log_days" -delete 2>/dev/null

if [[ $code -ne 0 ]]; then
    case $code in
        1) what="a step failed; the targets it did not refresh keep their previous data" ;;
        2) what="bad input (sanitize.toml, rules, an environment variable); nothing was changed" ;;
        *) what="unexpected exit code" ;;
    esac
    {
        echo "sanitize refresh FAILED (exit $code: $what)"
        echo "log: $log"
        echo "--- last lines of the log:"
        tail -n 25 "$log"
    } >&2
fi
exit "$code"
