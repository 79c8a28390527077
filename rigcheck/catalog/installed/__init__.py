"""Models already on this machine: found in each tool's folder, read from their headers, matched to the catalog.

``roots`` says where to look (Ollama, LM Studio, the Hugging Face and llama.cpp caches, the user's folders),
``finders`` lays out each tool's files as models, ``gguf_header`` reads a GGUF header without its tensors,
``describe`` turns a header or config.json into a cacheable summary, ``matching`` puts it in catalog terms,
and ``scan`` does all of it. No Qt.
"""
