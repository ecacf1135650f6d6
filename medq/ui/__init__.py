"""The Chainlit chat app: a client of the medq API over HTTP (it imports neither medq.agent nor medq.api)."""
