"""Tests of medq.rag: the embedded store and OpenSearch (a real node started by scripts/opensearch.sh)."""
