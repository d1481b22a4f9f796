import { html } from '../http/html.js';
import { layout } from './layout.js';

export interface GradebookView {
  courseTitle: string;
  lineItems: { id: number; label: string; scoreMaximum: number }[];
  students: { login: string; name: string; cells: ({ score: string; comment: string | null; progress: string } | null)[] }[];
}

/** Line items × students, with the latest score and comment the tool posted through AGS. */
export function gradebookPage(v: GradebookView): string {
  return layout({
    title: 'Gradebook',
    body: html`<h1>Gradebook: ${v.courseTitle}</h1>
${v.lineItems.length
  ? html`<table>
<caption>Latest score per student and line item</caption>
<thead><tr><th scope="col">Student</th>${v.lineItems.map((li) => html`<th scope="col">${li.label} <span class="muted">(out of ${li.scoreMaximum})</span></th>`)}</tr></thead>
<tbody>
${v.students.map((s) => html`<tr><th scope="row">${s.name} <span class="muted">(${s.login})</span></th>
${s.cells.map((c) => (c
  ? html`<td><strong>${c.score}</strong> <span class="muted">${c.progress}</span>${c.comment ? html`<br><span class="hint">${c.comment}</span>` : ''}</td>`
  : html`<td><span class="muted">No score</span></td>`))}</tr>`)}
</tbody>
</table>`
  : html`<p>No line items yet.</p>`}
<p><a href="/api/scores">Every posted score as JSON</a> · <a href="/">Back to the course</a></p>`,
  });
}

/** The launch_presentation return_url: where a tool sends the person back, with an optional message. */
export function returnPage(v: { msg?: string; errormsg?: string }): string {
  return layout({
    title: 'Back from the tool',
    body: html`<h1>Back from the tool</h1>
${v.errormsg ? html`<div class="error" role="alert"><p>${v.errormsg}</p></div>` : ''}
${v.msg ? html`<div class="notice" role="status"><p>${v.msg}</p></div>` : ''}
<p><a class="button" href="/" target="_top">Back to the course</a></p>`,
  });
}
