"""Text: tokenizers, vocabularies, dataset readers, batching."""


def distinct_strings(value, what: str) -> list[str]:
    """`value` if it is a list of distinct strings, else ValueError naming `what`: a vocabulary read
    back from a file is checked before it maps ids to tokens."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{what} must be a list of strings")
    if len(set(value)) != len(value):
        raise ValueError(f"{what} has repeated entries")
    return value
