// Text into HTML, for every page lifeboat writes (the local console, `report --html`).

/** Element content: &, <, > and " escaped. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** An attribute value, quoted with either quote. */
export function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/'/g, '&#39;');
}
