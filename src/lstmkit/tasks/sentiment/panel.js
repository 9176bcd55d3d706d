// The sentiment panel of the page (uses serve/static/app.js).
"use strict";

// Sentiment: the probability, and each word coloured by its contribution to the label.
$("sentiment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("sentiment");
  const result = $("sentiment-result");
  result.replaceChildren();
  try {
    const answer = await (await api("/v1/sentiment", { model: $("sentiment-model").value || null,
                                                      texts: [$("sentiment-text").value], explain: true })).json();
    const explained = answer.results[0];
    const line = document.createElement("p");
    line.className = "probability";
    line.textContent = explained.label + ": probability " + explained.probability.toFixed(3);
    const words = document.createElement("p");
    const largest = Math.max(1e-6, ...explained.words.map(([, c]) => Math.abs(c)));
    for (const [word, contribution] of explained.words) {
      const span = document.createElement("span");
      span.className = "word";
      span.textContent = word;
      const strength = Math.abs(contribution) / largest;
      span.style.background = contribution >= 0 ? `rgba(0, 140, 60, ${strength})` : `rgba(200, 30, 30, ${strength})`;
      span.title = "contribution " + contribution.toFixed(4);
      words.append(span);
    }
    const legend = document.createElement("p");
    legend.className = "legend";
    legend.textContent = "Green words speak for the label, red ones against it: how much its probability drops " +
                         "when the word is replaced by an unknown one.";
    result.append(line, words, legend);
  } catch (error) {
    showError("sentiment", error);
  }
});

// Generation: the text streams in as it is made (Server-Sent Events over fetch).
