"""Making sequences one token at a time, for any model behind one step interface (steps.py):
greedy and beam search (search.py), sampling (sampling.py), an LSTM language model's steps
(language_model.py), and continuous batching for a server (continuous.py)."""
