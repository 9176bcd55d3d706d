"""Text: tokenizers, vocabularies, dataset readers, batching."""
