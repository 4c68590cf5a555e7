/* The board (看板) with JavaScript: drag a card onto the next stage's column to move the deal on.
 *
 * The board works without this file: each card's button posts the card's move form. Dropping a card sends
 * that same form (CSRF token, version, back_to=board, the board's filters) and draws the board the server
 * answers with: the card in its new column, or, when the move is refused (409), in its old column with
 * what is still missing. Only a card's own forward move is a drop target; keyboards and touch use the button.
 */
(function () {
  "use strict";

  let dragged = null; // the card being dragged
  let busy = false; // one move at a time

  function moveForm(card) {
    return card.querySelector("form.card-move[data-drop-to]");
  }

  function dropTarget(card) {
    const form = card && moveForm(card);
    return form ? document.getElementById(form.dataset.dropTo) : null;
  }

  /* Make every card that has a forward move into a neighbouring column draggable. */
  function enhance(root) {
    root.querySelectorAll(".board .card").forEach(function (card) {
      if (dropTarget(card)) {
        card.draggable = true;
        card.classList.add("is-draggable");
      }
    });
  }

  function clearMarks() {
    document.querySelectorAll(".drop-target, .drop-over, .is-dragging, .has-drag").forEach(function (el) {
      el.classList.remove("drop-target", "drop-over", "is-dragging", "has-drag");
    });
  }

  /* The column under the pointer, when it is where the dragged card may go. */
  function validColumn(event) {
    const column = event.target instanceof Element ? event.target.closest(".board-column") : null;
    return column && dragged && column === dropTarget(dragged) ? column : null;
  }

  /* Post the card's form and draw the board from the answer; anything else falls back to the plain form. */
  async function send(card) {
    const form = moveForm(card);
    busy = true;
    card.classList.add("is-moving");
    card.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.querySelector("main");
      const main = document.querySelector("main");
      if (!fresh || !main || !fresh.querySelector(".board")) {
        throw new Error("the answer is not the board");
      }
      main.replaceChildren(...Array.from(fresh.childNodes, function (node) {
        return document.importNode(node, true);
      }));
      enhance(main);
      const alert = document.getElementById("refused-" + card.id.replace("deal-", ""));
      if (alert) {
        alert.scrollIntoView({ block: "nearest" });
      }
    } catch (error) {
      form.submit(); // the button's way: the server's answer as a whole page
    } finally {
      busy = false;
    }
  }

  document.addEventListener("dragstart", function (event) {
    const card = event.target instanceof Element ? event.target.closest(".card.is-draggable") : null;
    const target = dropTarget(card);
    if (!card || !target || busy) {
      return;
    }
    dragged = card;
    card.classList.add("is-dragging");
    target.classList.add("drop-target");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
    // Columns stretch to the board's height while dragging (a bigger target), once the drag has begun.
    window.setTimeout(function () {
      if (dragged === card) {
        card.closest(".board").classList.add("has-drag");
      }
    }, 0);
  });

  function allow(event) {
    const column = validColumn(event);
    if (column) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-over");
    }
  }

  document.addEventListener("dragenter", allow);
  document.addEventListener("dragover", allow);

  document.addEventListener("dragleave", function (event) {
    const column = validColumn(event);
    if (column && !(event.relatedTarget instanceof Node && column.contains(event.relatedTarget))) {
      column.classList.remove("drop-over");
    }
  });

  document.addEventListener("drop", function (event) {
    const column = validColumn(event);
    if (!column) {
      return;
    }
    event.preventDefault();
    const card = dragged;
    dragged = null;
    clearMarks();
    send(card);
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    clearMarks();
  });

  enhance(document);
})();
