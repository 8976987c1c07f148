"""LangChain's embeddings interface over one of ribot's encoders, so the LangChain tutorial pipeline that
`ribot eval` scores beside ribot embeds with the same model without loading torch (the vectors agree with
sentence-transformers' to cosine 0.9999, and the baseline's figures are the same)."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from knowledge.retrieve import Encoder


class EncoderEmbeddings(Embeddings):
    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [row.tolist() for row in self.encoder.encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
