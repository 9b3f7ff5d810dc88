// Microphone recorder for the voice drill (anywidget). One button starts and stops recording;
// the recording (WebM/Opus where the browser supports it) is sent to the kernel as bytes in
// the `audio` trait, with its MIME type in `mime`. Labels come from Python (Chinese text lives
// in toolkit/data/voice.toml).
const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "jupyter-widgets jupyter-button widget-button kefu-voice-record";
  const status = document.createElement("span");
  status.className = "kefu-voice-status";
  status.style.marginLeft = "8px";
  let recorder = null;
  let timer = null;

  const idle = () => {
    button.textContent = model.get("label_start");
    button.classList.remove("mod-danger");
    button.classList.add("mod-primary");
  };

  const stop = () => {
    if (recorder && recorder.state === "recording") recorder.stop();
  };

  async function start() {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      status.textContent = model.get("label_unsupported");
      return;
    }
    let stream;
    try {
      // Raw sound: the browser's gain control and noise suppression would change the very
      // loudness and silences the drill measures.
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (err) {
      status.textContent = model.get("label_denied") + "（" + err.name + "）";
      return;
    }
    const type = TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    const chunks = [];
    recorder.ondataavailable = (e) => { if (e.data && e.data.size) chunks.push(e.data); };
    recorder.onstop = async () => {
      clearInterval(timer);
      stream.getTracks().forEach((t) => t.stop());
      const blob = new Blob(chunks, { type: recorder.mimeType || type || "audio/webm" });
      const buffer = await blob.arrayBuffer();
      model.set("mime", blob.type);
      model.set("audio", new DataView(buffer));
      model.set("recordings", model.get("recordings") + 1);
      model.save_changes();
      status.textContent = model.get("label_sent");
      idle();
    };
    recorder.start(250);
    button.textContent = model.get("label_stop");
    button.classList.remove("mod-primary");
    button.classList.add("mod-danger");
    const started = Date.now();
    const limit = model.get("max_seconds");
    status.textContent = model.get("label_recording").replace("{s}", "0");
    timer = setInterval(() => {
      const s = (Date.now() - started) / 1000;
      status.textContent = model.get("label_recording").replace("{s}", s.toFixed(0));
      if (s >= limit) stop();
    }, 250);
  }

  button.addEventListener("click", () => {
    if (recorder && recorder.state === "recording") stop();
    else start();
  });
  idle();
  el.classList.add("kefu-voice-recorder");
  el.append(button, status);
  return () => { clearInterval(timer); stop(); };
}

export default { render };
