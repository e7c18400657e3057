"""The Gradio chat page (built in its own issue). It calls only the public API, ``rag.Assistant``."""
