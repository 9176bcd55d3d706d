// The translation panel of the page (uses serve/static/app.js).
"use strict";

$("translate-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("translate");
  $("translate-result").textContent = "";
  $("attention-figure").hidden = true;
  const name = $("translate-model").value;
  const model = models.find((m) => m.name === name);
  const beam = Number($("translate-beam").value);
  const attention = Boolean(model && model.config.attention) && beam === 1;
  try {
    const answer = await (await api("/v1/translate", { model: name || null, sentences: [$("translate-text").value],
                                                      beam, attention })).json();
    const result = answer.results[0];
    $("translate-result").textContent = result.translation
      ? "German: " + result.translation : "(the model translated it as nothing: it stopped at once)";
    if (result.attention) {
      const map = result.attention;
      heatMap($("attention-map"), map.weights, map.target.map(shown), map.source.map(shown), gateColour,
              "attention (rows: output tokens, columns: input tokens)");
      $("attention-figure").hidden = false;
    }
  } catch (error) {
    showError("translate", error);
  }
});

// Inside the LSTM: gates and cell state over time for a few units, and the units that track something.
