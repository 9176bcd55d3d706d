"""lstmkit's trained models: catalogue.json and one run directory per model, beside this file.
lstmkit finds them through the entry-point group `lstmkit.models` (lstmkit/catalogue.py)."""
