"""lstmkit.nn.from_keras against Keras itself: small saved Keras 3 models and Keras's outputs on fixed
inputs (tests/data/keras, made by bench/peers/make_keras_fixtures.py in the Keras virtualenv), loaded
here without Keras. Then the files and layers it refuses, each with one line naming what."""

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmkit.errors import DataError, MissingDependency
from lstmkit.nn import GRU, LSTM, Bidirectional, Dense, Embedding, KerasFunctional, KerasModel, SimpleRNN, from_keras

DATA = Path(__file__).resolve().parents[1] / "data" / "keras"
MODELS = ["imdb_lstm", "imdb_simplernn", "imdb_stacked", "imdb_bilstm", "imdb_gru", "char_lstm", "seq2seq_char"]


def keras_inputs(name) -> list[torch.Tensor]:
    with np.load(DATA / f"{name}.input.npz") as saved:
        arrays = [saved[str(index)] for index in range(len(saved.files))]
    # one-hot inputs are saved as bytes, token ids as integers
    return [torch.as_tensor(x.astype("float32") if x.ndim == 3 else x.astype("int64")) for x in arrays]


@pytest.mark.parametrize("name", MODELS)
def test_the_outputs_are_keras_outputs(name):
    model = from_keras(DATA / f"{name}.keras")
    assert isinstance(model, KerasFunctional if name == "seq2seq_char" else KerasModel) and not model.training
    with torch.no_grad():
        outputs = model(*keras_inputs(name)).numpy()
    np.testing.assert_allclose(outputs, np.load(DATA / f"{name}.output.npy"), rtol=0, atol=1e-5)


def test_the_layers_are_lstmkits_under_keras_names_counted_as_keras_counts():
    model = from_keras(DATA / "imdb_lstm.keras")
    assert [type(layer) for layer in model] == [Embedding, LSTM, Dense]
    assert model[2].activation == "sigmoid"
    assert sum(p.numel() for p in model.parameters()) == 100 * 32 + 8_320 + 33  # one bias per gate, as Keras
    lstm_name = next(name for name, layer in model.named_children() if isinstance(layer, LSTM))
    gates = model.get_submodule(lstm_name).gates(model[0](*keras_inputs("imdb_lstm")))
    assert gates["f"].shape == (4, 40, 32)  # the loaded LSTM can be inspected gate by gate
    gru = from_keras(DATA / "imdb_gru.keras")
    assert isinstance(gru[1], GRU) and isinstance(gru[3], Bidirectional)
    assert isinstance(from_keras(DATA / "imdb_simplernn.keras")[1], SimpleRNN)


def rewritten(tmp_path, source, change):
    """A copy of a fixture whose config.json went through `change(config)`."""
    target = tmp_path / source
    with zipfile.ZipFile(DATA / source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.namelist():
            data = original.read(item)
            if item == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            copy.writestr(item, data)
    return target


def layer_config(config, kind):
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == kind)


def one_line_error(path, match):
    with pytest.raises(ValueError, match=match) as raised:
        from_keras(path)
    message = str(raised.value)
    assert isinstance(raised.value, DataError)
    assert "\n" not in message and str(path) in message
    return message


def test_an_unknown_layer_is_named(tmp_path):
    def change(config):
        layer_config(config, "LSTM")["class_name"] = "ConvLSTM1D"
    message = one_line_error(rewritten(tmp_path, "imdb_lstm.keras", change), "is a ConvLSTM1D")
    assert "layer 'lstm" in message and "Embedding, LSTM, SimpleRNN, GRU, Bidirectional, Dense, Dropout" in message


def test_a_gru_without_reset_after_is_refused_by_name(tmp_path):
    def change(config):
        layer_config(config, "GRU")["config"]["reset_after"] = False
    one_line_error(rewritten(tmp_path, "imdb_gru.keras", change), r"layer 'gru' has reset_after=False")


@pytest.mark.parametrize("setting, value, kind", [("mask_zero", True, "Embedding"), ("activation", "relu", "LSTM"),
                                                  ("go_backwards", True, "LSTM"), ("stateful", True, "LSTM")])
def test_settings_lstmkit_cannot_compute_are_refused_by_name(tmp_path, setting, value, kind):
    def change(config):
        layer_config(config, kind)["config"][setting] = value
    one_line_error(rewritten(tmp_path, "imdb_lstm.keras", change), f"has {setting}=")


def test_the_seq2seq_decoder_starts_from_the_encoders_state():
    model = from_keras(DATA / "seq2seq_char.keras")
    assert model.inputs == ["source", "target_in"]
    assert [type(layer) for layer in model.layers.values()] == [LSTM, LSTM, Dense]
    source, target = keras_inputs("seq2seq_char")
    with torch.no_grad():
        changed = model(source.flip(1), target)  # another source changes every decoder step
    assert not torch.allclose(changed[:, -1], model(source, target)[:, -1])
    with pytest.raises(ValueError, match=r"takes 2 input\(s\) \(source, target_in\), got 1"):
        model(source)


def test_another_model_class_is_refused(tmp_path):
    def change(config):
        config["class_name"] = "MyModel"
    one_line_error(rewritten(tmp_path, "imdb_lstm.keras", change), "reads Keras Sequential and Functional models; "
                                                                   "this one is a MyModel")


def test_a_layer_called_twice_is_refused_by_name(tmp_path):
    def change(config):
        dense = layer_config(config, "Dense")
        dense["inbound_nodes"] = dense["inbound_nodes"] * 2
    one_line_error(rewritten(tmp_path, "seq2seq_char.keras", change), r"layer 'dense.*is called 2 times")


@pytest.mark.parametrize("content", [None, b"not a zip", "no weights"])
def test_a_file_that_is_not_a_keras_model_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "model.keras"
    if content == "no weights":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", "{}")
    elif content is not None:
        path.write_bytes(content)
    one_line_error(path, "no such file" if content is None else "not a readable Keras 3 .keras file")


def test_weights_of_another_shape_are_refused(tmp_path):
    def change(config):
        layer_config(config, "LSTM")["config"]["units"] = 16
    one_line_error(rewritten(tmp_path, "imdb_lstm.keras", change), r"layer 'lstm.*has a weight of shape")


def test_without_h5py_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py fails as if it were not installed
    with pytest.raises(MissingDependency, match=r"needs h5py; pip install"):
        from_keras(DATA / "imdb_lstm.keras")
