// The operator's queue, live: the server sends the queue each time it changes
// (server-sent events); the rows are redrawn with the DOM (text only, never
// markup), and a new call rings once and shows a notification if allowed.
// Without this script the page still works: it shows the queue as loaded.
const table = document.getElementById("queue");
const rows = document.getElementById("queue-rows");
const empty = document.getElementById("queue-empty");
const notify = document.getElementById("notify");
const known = new Set([...rows.querySelectorAll("tr")].map((tr) => tr.dataset.id));

if ("Notification" in window && Notification.permission === "default") {
  notify.hidden = false;
  notify.addEventListener("click", () => {
    Notification.requestPermission().then(() => { notify.hidden = true; });
  });
}

function ring() {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  } catch (_) {
    // No sound where the browser allows none yet.
  }
}

function draw(queue) {
  const fresh = queue.filter((call) => !known.has(String(call.id)));
  rows.replaceChildren(...queue.map((call) => {
    const tr = document.createElement("tr");
    tr.dataset.id = String(call.id);
    const number = document.createElement("td");
    number.textContent = call.number;
    const received = document.createElement("td");
    received.textContent = call.received;
    const action = document.createElement("td");
    const link = document.createElement("a");
    link.href = `/console/appeals/${encodeURIComponent(call.id)}/notes`;
    link.textContent = table.dataset.record;
    action.append(link);
    tr.append(number, received, action);
    return tr;
  }));
  table.hidden = queue.length === 0;
  empty.hidden = queue.length !== 0;
  known.clear();
  queue.forEach((call) => known.add(String(call.id)));
  if (fresh.length > 0) {
    ring();
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification(table.dataset.new, { body: fresh.map((c) => c.number).join(", ") });
    }
  }
}

const events = new EventSource("/console/queue/events");
events.addEventListener("queue", (event) => draw(JSON.parse(event.data)));
