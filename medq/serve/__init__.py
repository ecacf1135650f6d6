"""Serving: launch a model server (vLLM, `transformers serve`, or an external endpoint) as a pipeline service, and
the one chat client everything else uses to talk to it. Imports nothing from medq.agent, medq.api or medq.ui."""

from medq.serve.client import ChatClient, ChatEndpoint, ChatReply, ModelServerUnavailable, ToolCall
from medq.serve.servers import ExternalServer, LoraModule, ModelServer, TransformersServer, VLLMServer

__all__ = ["ChatClient", "ChatEndpoint", "ChatReply", "ExternalServer", "LoraModule", "ModelServer",
           "ModelServerUnavailable", "ToolCall", "TransformersServer", "VLLMServer"]
