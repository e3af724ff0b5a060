#!/usr/bin/env bash
# GPU tier start-up: check the settings, make the TLS certificate on first start, start
# Ollama, make sure the model is pulled and loaded, then replace this shell with the API
# server (uvicorn vast_ai.app:app over HTTPS) after printing the certificate's fingerprint.
#
# `ollama`, `curl`, `python3` and `uvicorn` are taken from PATH (the image puts its
# virtual environment first), so tests can put stand-ins there.
set -euo pipefail
# The folder holding the vast_ai package, for `python3 -m` and uvicorn, wherever this starts.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OLLAMA_HOST="${OLLAMA_HOST:-127.0.0.1:11434}"
OLLAMA_MODEL="${OLLAMA_MODEL:-gpt-oss:20b}"
OLLAMA_KEEP_ALIVE="${OLLAMA_KEEP_ALIVE:-24h}"
# The context window: the warm-up loads the model with it, and the API asks for the same
# on every request (vast_ai/settings.py), so no request makes Ollama load it again.
OLLAMA_CONTEXT_LENGTH="${OLLAMA_CONTEXT_LENGTH:-8192}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
# Seconds to wait for `ollama serve` to answer, polled every half second.
ERT_READY_TIMEOUT="${ERT_READY_TIMEOUT:-120}"
# Seconds the warm-up (loading the model into GPU memory) may take.
ERT_WARM_TIMEOUT="${ERT_WARM_TIMEOUT:-900}"
# HTTPS with a self-signed certificate made on first start and kept in ERT_TLS_DIR (the
# dashboard pins its fingerprint). `false` serves plain HTTP, on a loopback HOST only.
ERT_TLS="${ERT_TLS:-true}"
ERT_TLS_DIR="${ERT_TLS_DIR:-/home/ert/tls}"
export OLLAMA_HOST OLLAMA_MODEL OLLAMA_KEEP_ALIVE OLLAMA_CONTEXT_LENGTH

log() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Until uvicorn takes over, a stop request (docker stop) ends Ollama (once started), waits
# for it, and exits.
ollama_pid=""
stop() {
    log "stopping"
    if [[ -n "$ollama_pid" ]]; then
        kill "$ollama_pid" 2>/dev/null
        wait "$ollama_pid" || true
    fi
    exit 143
}
trap stop TERM INT

# The API's own check of its settings (ERT_API_KEY first of all) says what is wrong now,
# not after minutes of pulling a model.
python3 -m vast_ai.settings || die "the settings above stop the API from starting"
[[ "$ERT_READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "ERT_READY_TIMEOUT must be a whole number of seconds"

uvicorn_tls=()
case "$ERT_TLS" in
    true)
        scheme=https
        fingerprint="$(python3 -m vast_ai.tls ensure "$ERT_TLS_DIR")" ||
            die "the API cannot serve HTTPS without its certificate (see above)"
        uvicorn_tls=(--ssl-certfile "${ERT_TLS_DIR}/cert.pem" --ssl-keyfile "${ERT_TLS_DIR}/key.pem")
        ;;
    false)
        scheme=http
        [[ "$HOST" == 127.* || "$HOST" == localhost || "$HOST" == ::1 ]] ||
            die "ERT_TLS=false would send the API key and the reports in clear: plain HTTP is served on a loopback HOST only (HOST=127.0.0.1, behind a tunnel on this machine)"
        ;;
    *) die "ERT_TLS must be true or false" ;;
esac

# OLLAMA_HOST may be host:port (as `ollama serve` takes it) or a full URL.
if [[ "$OLLAMA_HOST" == *://* ]]; then
    ollama_url="${OLLAMA_HOST%/}"
else
    ollama_url="http://${OLLAMA_HOST}"
fi

log "starting ollama serve on ${OLLAMA_HOST}"
ollama serve &
ollama_pid=$!

attempts=$((ERT_READY_TIMEOUT * 2))
for ((i = 1; ; i++)); do
    if curl -fsS --max-time 2 -o /dev/null "${ollama_url}/api/version" 2>/dev/null; then
        break
    fi
    kill -0 "$ollama_pid" 2>/dev/null || die "ollama serve exited before answering; see its output above"
    ((i < attempts)) || die "Ollama did not answer at ${ollama_url}/api/version within ${ERT_READY_TIMEOUT}s"
    sleep 0.5
done
log "ollama is up"

# `ollama list` prints a header, then one model per line (name first, with its tag).
wanted="$OLLAMA_MODEL"
[[ "$wanted" == *:* ]] || wanted="${wanted}:latest"
models="$(ollama list)" || die "'ollama list' failed"
if awk -v m="$wanted" 'NR > 1 && $1 == m { found = 1 } END { exit !found }' <<<"$models"; then
    log "model ${OLLAMA_MODEL} is already pulled"
else
    log "pulling ${OLLAMA_MODEL} (first start only: minutes for a large model)"
    ollama pull "$OLLAMA_MODEL" || die "could not pull ${OLLAMA_MODEL}"
fi

# An empty prompt makes Ollama load the model without generating anything.
log "loading ${OLLAMA_MODEL} into memory (keep_alive ${OLLAMA_KEEP_ALIVE}, context ${OLLAMA_CONTEXT_LENGTH})"
if ! curl -fsS --max-time "$ERT_WARM_TIMEOUT" -o /dev/null \
    -H 'Content-Type: application/json' \
    -d "{\"model\": \"${OLLAMA_MODEL}\", \"prompt\": \"\", \"keep_alive\": \"${OLLAMA_KEEP_ALIVE}\", \"options\": {\"num_ctx\": ${OLLAMA_CONTEXT_LENGTH}}}" \
    "${ollama_url}/api/generate"; then
    # Not fatal: the API still starts and /health reports the state of the model.
    log "WARNING: warming ${OLLAMA_MODEL} failed; the first request will load it"
fi

log "starting the API on ${scheme}://${HOST}:${PORT}"
if [[ "$scheme" == https ]]; then
    log "for the dashboard (Render), the certificate's fingerprint to pin:"
    log "  ERT_LLM_TLS_FINGERPRINT=${fingerprint}"
    # Vast.ai names the public IP and the public port it maps to PORT.
    public_port="VAST_TCP_PORT_${PORT}"
    if [[ -n "${PUBLIC_IPADDR:-}" && -n "${!public_port:-}" ]]; then
        log "  ERT_LLM_BACKEND_URL=https://${PUBLIC_IPADDR}:${!public_port}"
    fi
fi
exec uvicorn vast_ai.app:app --host "$HOST" --port "$PORT" "${uvicorn_tls[@]}" "$@"
