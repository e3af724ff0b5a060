#!/usr/bin/env bash
# GPU tier start-up: start Ollama, make sure the model is pulled and loaded, then
# replace this shell with the API server (uvicorn vast_ai.app:app).
#
# `ollama`, `curl` and `uvicorn` are taken from PATH (the image puts its virtual
# environment first), so tests can put stand-ins there.
set -euo pipefail

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
export OLLAMA_HOST OLLAMA_MODEL OLLAMA_KEEP_ALIVE OLLAMA_CONTEXT_LENGTH

log() { printf '[entrypoint] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -z "${ERT_API_KEY:-}" ]]; then
    die "ERT_API_KEY is not set. Generate one with 'python generate_api_key.py' and pass it as an environment variable (-e ERT_API_KEY=...)."
fi
[[ "$ERT_READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "ERT_READY_TIMEOUT must be a whole number of seconds"
[[ "$OLLAMA_CONTEXT_LENGTH" =~ ^[0-9]+$ ]] || die "OLLAMA_CONTEXT_LENGTH must be a whole number of tokens"

# OLLAMA_HOST may be host:port (as `ollama serve` takes it) or a full URL.
if [[ "$OLLAMA_HOST" == *://* ]]; then
    ollama_url="${OLLAMA_HOST%/}"
else
    ollama_url="http://${OLLAMA_HOST}"
fi

log "starting ollama serve on ${OLLAMA_HOST}"
ollama serve &
ollama_pid=$!
# Until uvicorn takes over, a stop request (docker stop) ends Ollama, waits for it, and exits.
trap 'log "stopping"; kill "$ollama_pid" 2>/dev/null; wait "$ollama_pid" || true; exit 143' TERM INT

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

log "starting the API on ${HOST}:${PORT}"
exec uvicorn vast_ai.app:app --host "$HOST" --port "$PORT" "$@"
