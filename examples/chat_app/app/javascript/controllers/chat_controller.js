import { Controller } from "@hotwired/stimulus"

// The chat page's live parts, driven by the worker's Turbo Stream broadcasts:
// - the lock target holds "processing" while a turn runs: the input and Send are
//   disabled and Stop is shown;
// - each reply chunk is a <span data-offset> (see AssistantChatWorker#render_broadcast):
//   a chunk the page already shows (after a reload) is trimmed, and one that starts
//   past the end (chunks missed while the page loaded) fetches the saved reply.
export default class extends Controller {
  static targets = ["lock", "form", "input", "send", "stop", "chunk"]
  static values = { prefix: String, resyncUrl: String }

  connect() {
    this.wasLocked = this.locked
    this.observer = new MutationObserver(() => this.lockChanged())
    this.observer.observe(this.lockTarget, { childList: true, characterData: true, subtree: true })
    this.applyLock()
  }

  disconnect() {
    this.observer?.disconnect()
  }

  get locked() {
    return this.lockTarget.textContent.trim() !== ""
  }

  lockChanged() {
    const locked = this.locked
    // A new turn started: the last turn's error no longer applies.
    if (locked && !this.wasLocked) this.element.querySelector(`#${this.prefixValue}_error`).textContent = ""
    this.wasLocked = locked
    this.applyLock()
  }

  applyLock() {
    const locked = this.locked
    this.inputTarget.disabled = locked
    this.sendTarget.disabled = locked
    this.stopTarget.hidden = !locked
  }

  // Enter sends, as chat inputs do.
  send() {
    if (!this.sendTarget.disabled) this.formTarget.requestSubmit()
  }

  // Turbo re-enables the submit button when its request ends; the lock may have
  // been taken meanwhile.
  submitted(event) {
    if (event.detail.success) this.formTarget.reset()
    this.applyLock()
  }

  chunkTargetConnected(span) {
    const reply = span.parentElement
    if (!reply) return

    const offset = Number(span.dataset.offset)
    const shown = this.lengthBefore(reply, span)
    if (offset === shown) return

    if (offset < shown) {
      const overlap = shown - offset
      if (overlap >= span.textContent.length) span.remove()
      else span.textContent = span.textContent.slice(overlap)
    } else {
      // A gap: chunks went out before this page subscribed. The piece waits off the
      // page (so the reply never shows with a hole) until the saved text arrives.
      this.pending = (this.pending || []).concat([{ offset, piece: span.textContent }])
      span.remove()
      this.resync(reply)
    }
  }

  // The reply's length before span, in UTF-16 code units (what offsets count).
  lengthBefore(reply, span) {
    const range = document.createRange()
    range.setStart(reply, 0)
    range.setEndBefore(span)
    return range.toString().length
  }

  async resync(reply) {
    if (this.resyncing) return
    this.resyncing = true
    try {
      const response = await fetch(this.resyncUrlValue, { headers: { Accept: "application/json" } })
      if (!response.ok) return
      let text = (await response.json()).reply
      // Chunks held back by the gap, or that arrived during the fetch, go on from the saved text.
      const shown = Array.from(reply.querySelectorAll("[data-offset]"), (span) => ({
        offset: Number(span.dataset.offset), piece: span.textContent
      }))
      const pieces = (this.pending || []).concat(shown).sort((a, b) => a.offset - b.offset)
      this.pending = []
      for (const { offset, piece } of pieces) {
        if (offset <= text.length && offset + piece.length > text.length) text += piece.slice(text.length - offset)
      }
      if (reply.isConnected && text.length >= reply.textContent.length) reply.textContent = text
    } finally {
      this.resyncing = false
    }
  }
}
