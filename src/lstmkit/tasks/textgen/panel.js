// The generation panel of the page (uses serve/static/app.js).
"use strict";

$("generate-temperature").addEventListener("input", (event) => {
  $("temperature-value").textContent = Number(event.target.value).toFixed(2);
});
$("generate-top-p").addEventListener("input", (event) => {
  const value = Number(event.target.value);
  $("top-p-value").textContent = value.toFixed(2) + (value >= 1 ? " (off)" : "");
});
$("generate-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("generate");
  const output = $("generate-result");
  output.textContent = $("generate-seed").value;
  const topP = Number($("generate-top-p").value);
  const body = { model: $("generate-model").value || null, seed_text: $("generate-seed").value,
                 length: Number($("generate-length").value), temperature: Number($("generate-temperature").value),
                 stream: true };
  if (topP < 1) body.top_p = topP;
  try {
    const response = await api("/v1/generate", body);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = JSON.parse(block.slice(block.indexOf("data: ") + 6));
        if (block.startsWith("event: error")) throw new Error(data.error);
        if (!block.startsWith("event:")) output.textContent += data.pieces[0];
      }
    }
  } catch (error) {
    showError("generate", error);
  }
});

// A heat map on a canvas: rows x columns of values, labels down the left and under the columns.
