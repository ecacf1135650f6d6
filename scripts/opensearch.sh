#!/usr/bin/env bash
# A single-node OpenSearch for development, tests and CI, fetched from Maven Central with mvn (no Docker needed).
#
#   bash scripts/opensearch.sh start    # fetch (first time), install k-NN, start on 127.0.0.1:${MEDQ_OPENSEARCH_PORT:-9200}
#   bash scripts/opensearch.sh status   # exit 0 when the node answers
#   bash scripts/opensearch.sh stop
#   bash scripts/opensearch.sh node-dir # the folder the node's files live in (see below)
#
# Everything lives under .opensearch/ (git-ignored): the distribution, its data, its log and its pid file.
# Run as root, OpenSearch (which refuses root) runs as the service user $MEDQ_OPENSEARCH_USER; when that user cannot
# reach .opensearch/ (a clone inside root's 700 home folder), the node's files go to /var/lib/medq-opensearch/
# instead, and the script says so. Every Maven download is checked against Maven Central's published checksums
# (mvn --strict-checksums: a mismatch fails the fetch).
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
SERVICE_BASE="${MEDQ_OPENSEARCH_SERVICE_HOME:-/var/lib/medq-opensearch/$(printf %s "$BASE" | sha256sum | cut -c1-12)}"
MVN=(mvn -q -B --strict-checksums)
LOCAL_REPO="${MEDQ_MAVEN_REPO:-$HOME/.m2/repository}"

# As root, the node runs as RUN_USER, which must be able to reach BASE; if it cannot (every folder on the way needs
# o+x, e.g. not /root), the node's files live in SERVICE_BASE (the pid file stays in BASE for stop/status).
relocate_if_unreachable() {
  [[ "$(id -u)" == 0 ]] || return 0
  id -u "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
  mkdir -p "$BASE"
  if setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --clear-groups -- test -x "$BASE" 2>/dev/null; then
    return 0
  fi
  echo "opensearch.sh: $RUN_USER cannot enter $BASE (a parent folder is closed to other users, e.g. root's home);" \
       "the node's files live in $SERVICE_BASE instead" >&2
  mkdir -p "$SERVICE_BASE"
  chmod 755 "$SERVICE_BASE"
  NODE_BASE="$SERVICE_BASE"
}
NODE_BASE="$BASE"
# The integ-test zip bundles no JDK: use the machine's (Java 17 or newer).
if [[ -z "${OPENSEARCH_JAVA_HOME:-}" ]]; then
  if [[ -n "${JAVA_HOME:-}" ]]; then OPENSEARCH_JAVA_HOME="$JAVA_HOME"
  elif command -v java >/dev/null; then OPENSEARCH_JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  else echo "opensearch.sh: no Java found: install a JDK 17+ or set OPENSEARCH_JAVA_HOME" >&2; exit 1; fi
fi
export OPENSEARCH_JAVA_HOME

answers() { curl -fsS --max-time 2 "$URL" >/dev/null 2>&1; }

fetch() {
  if [[ -x "$HOME_DIR/bin/opensearch" ]] && [[ -d "$HOME_DIR/plugins/opensearch-knn" ]]; then
    # a node fetched before medq needed reindex, or an interrupted module install (the descriptor is written last)
    [[ -f "$HOME_DIR/modules/reindex/plugin-descriptor.properties" ]] || install_modules
    return 0
  fi
  mkdir -p "$BASE/zips"
  command -v mvn >/dev/null || { echo "opensearch.sh: mvn not found: install Maven (apt-get install maven)" >&2; exit 1; }
  echo "opensearch.sh: fetching OpenSearch $VERSION and the k-NN plugin from Maven Central (once)" >&2
  "${MVN[@]}" dependency:copy -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$VERSION:zip" \
      -DoutputDirectory="$BASE/zips" -Dmdep.overWriteIfNewer=true >&2
  "${MVN[@]}" dependency:copy -Dartifact="org.opensearch.plugin:opensearch-knn:$VERSION.0:zip" \
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
# (the files the full distribution ships under modules/): lang-painless, which k-NN extends, analysis-common,
# which holds the `cjk` analyser, and reindex, which serves _delete_by_query and _update_by_query (the
# delete_by_filter / update_by_filter / delete_all_documents of Haystack's store protocol).
# GROUP:ARTIFACT:VERSION's jar into DIR: from the local Maven repository when it is there and matches the .sha1
# Maven Central published for it (saved next to it at download), else through mvn (one JVM start per call).
copy_artifact() {
  local group artifact version jar
  IFS=: read -r group artifact version <<<"$1"
  jar="$LOCAL_REPO/${group//.//}/$artifact/$version/$artifact-$version.jar"
  if [[ -f "$jar" && -f "$jar.sha1" ]] && [[ "$(sha1sum "$jar" | cut -c1-40)" == "$(cut -c1-40 "$jar.sha1")" ]]; then
    cp "$jar" "$2/"
  else
    "${MVN[@]}" dependency:copy -Dartifact="$1" -DoutputDirectory="$2" >&2
  fi
}

install_module() {  # NAME CLASSNAME EXTENDED_PLUGINS ARTIFACT...
  local name="$1" classname="$2" extends="$3"; shift 3
  local dir="$HOME_DIR/modules/$name" artifact
  mkdir -p "$dir"
  for artifact in "$@"; do copy_artifact "$artifact" "$dir"; done
  printf '%s\n' "description=$name module (assembled by medq's scripts/opensearch.sh)" "version=$VERSION" \
    "name=$name" "classname=$classname" "java.version=11" "opensearch.version=$VERSION" "extended.plugins=$extends" \
    "has.native.controller=false" >"$dir/plugin-descriptor.properties"
}

install_modules() {
  install_module lang-painless org.opensearch.painless.PainlessPlugin "" \
    "org.opensearch.plugin:lang-painless:$VERSION" "org.opensearch.plugin:opensearch-scripting-painless-spi:$VERSION" \
    "org.antlr:antlr4-runtime:4.13.1" "org.ow2.asm:asm:9.7" "org.ow2.asm:asm-util:9.7" "org.ow2.asm:asm-tree:9.7" \
    "org.ow2.asm:asm-commons:9.7" "org.ow2.asm:asm-analysis:9.7"
  printf '%s\n' "grant {" '  permission java.lang.RuntimePermission "createClassLoader";' \
    '  permission java.lang.RuntimePermission "getClassLoader";' "};" \
    >"$HOME_DIR/modules/lang-painless/plugin-security.policy"
  install_module analysis-common org.opensearch.analysis.common.CommonAnalysisPlugin "" \
    "org.opensearch.plugin:analysis-common:$VERSION"
  install_module reindex org.opensearch.index.reindex.ReindexPlugin lang-painless \
    "org.opensearch.plugin:reindex-client:$VERSION" "org.opensearch.client:opensearch-rest-client:$VERSION" \
    "org.opensearch:opensearch-ssl-config:$VERSION" "org.apache.httpcomponents:httpclient:4.5.14" \
    "org.apache.httpcomponents:httpcore:4.4.16" "org.apache.httpcomponents:httpasyncclient:4.1.5" \
    "org.apache.httpcomponents:httpcore-nio:4.4.16" "commons-codec:commons-codec:1.16.1" \
    "commons-logging:commons-logging:1.2"
}

start() {
  if answers; then echo "opensearch.sh: already running at $URL" >&2; return 0; fi
  fetch
  relocate_if_unreachable
  local node_home="$HOME_DIR"
  if [[ "$NODE_BASE" != "$BASE" ]]; then
    node_home="$NODE_BASE/opensearch-$VERSION"
    rm -rf "$node_home" && cp -a "$HOME_DIR" "$node_home"
  fi
  mkdir -p "$NODE_BASE/data" "$NODE_BASE/logs"
  # OpenSearch refuses to run as root (CI and these machines run as root): run it as an unprivileged user.
  local as_user=()
  if [[ "$(id -u)" == 0 ]]; then
    chown -R "$RUN_USER" "$NODE_BASE/data" "$NODE_BASE/logs" "$node_home"
    as_user=(setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --clear-groups --)
    echo "opensearch.sh: running as root, so the node runs as $RUN_USER from $node_home" >&2
  fi
  OPENSEARCH_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" nohup "${as_user[@]}" "$node_home/bin/opensearch" \
    -Enetwork.host=127.0.0.1 -Ehttp.port="$PORT" -Ediscovery.type=single-node \
    -Epath.data="$NODE_BASE/data" -Epath.logs="$NODE_BASE/logs" -Ecluster.name=medq-dev \
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
  node-dir) relocate_if_unreachable; echo "$NODE_BASE" ;;  # where start would put the node's data and logs
  *) echo "usage: $0 start|stop|status|fetch|node-dir" >&2; exit 2 ;;
esac
