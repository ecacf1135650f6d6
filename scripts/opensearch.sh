#!/usr/bin/env bash
# A single-node OpenSearch for development, tests and CI, fetched from Maven Central with mvn (no Docker needed).
#
#   bash scripts/opensearch.sh start    # fetch (first time), install k-NN, start on 127.0.0.1:${MEDQ_OPENSEARCH_PORT:-9200}
#   bash scripts/opensearch.sh status   # exit 0 when the node answers
#   bash scripts/opensearch.sh stop
#
# Everything lives under .opensearch/ (git-ignored): the distribution, its data, its log and its pid file.
# The Maven build of the k-NN plugin ships no native faiss/nmslib libraries, so medq uses the `lucene` engine.
# Users with their own cluster skip this script and set `index.store.url` (see docs/rag.md).
set -euo pipefail

VERSION="${MEDQ_OPENSEARCH_VERSION:-2.19.1}"
PORT="${MEDQ_OPENSEARCH_PORT:-9200}"
HEAP="${MEDQ_OPENSEARCH_HEAP:-512m}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE="${MEDQ_OPENSEARCH_HOME:-$ROOT/.opensearch}"
HOME_DIR="$BASE/opensearch-$VERSION"
PID_FILE="$BASE/opensearch.pid"
LOG_FILE="$BASE/opensearch.log"
URL="http://127.0.0.1:$PORT"
RUN_USER="${MEDQ_OPENSEARCH_USER:-medq-opensearch}"
# The integ-test zip bundles no JDK: use the machine's (Java 17 or newer).
if [[ -z "${OPENSEARCH_JAVA_HOME:-}" ]]; then
  if [[ -n "${JAVA_HOME:-}" ]]; then OPENSEARCH_JAVA_HOME="$JAVA_HOME"
  elif command -v java >/dev/null; then OPENSEARCH_JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  else echo "opensearch.sh: no Java found: install a JDK 17+ or set OPENSEARCH_JAVA_HOME" >&2; exit 1; fi
fi
export OPENSEARCH_JAVA_HOME

answers() { curl -fsS --max-time 2 "$URL" >/dev/null 2>&1; }

fetch() {
  [[ -x "$HOME_DIR/bin/opensearch" ]] && [[ -d "$HOME_DIR/plugins/opensearch-knn" ]] && return 0
  mkdir -p "$BASE/zips"
  command -v mvn >/dev/null || { echo "opensearch.sh: mvn not found: install Maven (apt-get install maven)" >&2; exit 1; }
  echo "opensearch.sh: fetching OpenSearch $VERSION and the k-NN plugin from Maven Central (once)" >&2
  mvn -q -B dependency:copy -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip" \
      -DoutputDirectory="$BASE/zips" -Dmdep.overWriteIfNewer=true >&2
  mvn -q -B dependency:copy -Dartifact="org.opensearch.plugin:opensearch-knn:$VERSION.0:zip" \
      -DoutputDirectory="$BASE/zips" -Dmdep.overWriteIfNewer=true >&2
  rm -rf "$HOME_DIR" "$BASE/unpack"
  mkdir -p "$BASE/unpack"
  (cd "$BASE/unpack" && unzip -q "$BASE/zips/opensearch-$VERSION.zip")
  mv "$BASE/unpack/opensearch-$VERSION" "$HOME_DIR"
  rmdir "$BASE/unpack"
  install_modules
  "$HOME_DIR/bin/opensearch-plugin" install --batch "file://$BASE/zips/opensearch-knn-$VERSION.0.zip" >&2
}

# The integ-test zip carries only the transport module. Assemble the two more medq needs from their Maven jars
# (the files the full distribution ships under modules/): lang-painless, which k-NN extends, and
# analysis-common, which holds the `cjk` analyser.
install_module() {  # NAME CLASSNAME ARTIFACT...
  local name="$1" classname="$2"; shift 2
  local dir="$HOME_DIR/modules/$name" artifact
  mkdir -p "$dir"
  for artifact in "$@"; do
    mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$dir" >&2
  done
  printf '%s\n' "description=$name module (assembled by medq's scripts/opensearch.sh)" "version=$VERSION" \
    "name=$name" "classname=$classname" "java.version=11" "opensearch.version=$VERSION" "extended.plugins=" \
    "has.native.controller=false" >"$dir/plugin-descriptor.properties"
}

install_modules() {
  install_module lang-painless org.opensearch.painless.PainlessPlugin \
    "org.opensearch.plugin:lang-painless:$VERSION" "org.opensearch.plugin:opensearch-scripting-painless-spi:$VERSION" \
    "org.antlr:antlr4-runtime:4.13.1" "org.ow2.asm:asm:9.7" "org.ow2.asm:asm-util:9.7" "org.ow2.asm:asm-tree:9.7" \
    "org.ow2.asm:asm-commons:9.7" "org.ow2.asm:asm-analysis:9.7"
  printf '%s\n' "grant {" '  permission java.lang.RuntimePermission "createClassLoader";' \
    '  permission java.lang.RuntimePermission "getClassLoader";' "};" \
    >"$HOME_DIR/modules/lang-painless/plugin-security.policy"
  install_module analysis-common org.opensearch.analysis.common.CommonAnalysisPlugin \
    "org.opensearch.plugin:analysis-common:$VERSION"
}

start() {
  if answers; then echo "opensearch.sh: already running at $URL" >&2; return 0; fi
  fetch
  mkdir -p "$BASE/data" "$BASE/logs"
  # OpenSearch refuses to run as root (CI and these machines run as root): run it as an unprivileged user.
  local as_user=()
  if [[ "$(id -u)" == 0 ]]; then
    id -u "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
    chown -R "$RUN_USER" "$BASE/data" "$BASE/logs" "$HOME_DIR"
    as_user=(setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --clear-groups --)
  fi
  OPENSEARCH_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" nohup "${as_user[@]}" "$HOME_DIR/bin/opensearch" \
    -Enetwork.host=127.0.0.1 -Ehttp.port="$PORT" -Ediscovery.type=single-node \
    -Epath.data="$BASE/data" -Epath.logs="$BASE/logs" -Ecluster.name=medq-dev \
    -Ecluster.routing.allocation.disk.threshold_enabled=false \
    >"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 180); do
    if answers; then echo "opensearch.sh: OpenSearch $VERSION at $URL (pid $(cat "$PID_FILE"))" >&2; return 0; fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      echo "opensearch.sh: OpenSearch exited during start; last lines of $LOG_FILE:" >&2
      tail -n 20 "$LOG_FILE" >&2
      return 1
    fi
    sleep 1
  done
  echo "opensearch.sh: no answer from $URL after 180 s; see $LOG_FILE" >&2
  return 1
}

stop() {
  [[ -f "$PID_FILE" ]] || { echo "opensearch.sh: not running (no $PID_FILE)" >&2; return 0; }
  local pid; pid="$(cat "$PID_FILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$PID_FILE"
  echo "opensearch.sh: stopped" >&2
}

status() {
  if answers; then echo "opensearch.sh: running at $URL" >&2; else echo "opensearch.sh: not answering at $URL" >&2; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|status|fetch" >&2; exit 2 ;;
esac
