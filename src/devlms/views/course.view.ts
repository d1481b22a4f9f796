import { html } from '../http/html.js';
import { layout } from './layout.js';

export interface CourseView {
  course: { contextId: string; label: string; title: string };
  registered: boolean;
  defaultRegistrationUrl: string;
  tools: {
    clientId: string;
    name: string;
    deploymentId: string;
    dynamic: boolean;
    tasks: { href: (login: string) => string; title: string; description: string | null; grading: string | null; duplicateAction: string }[];
    nav: { href: (login: string) => string; title: string } | null;
    deepLinkHref: ((login: string) => string) | null;
  }[];
  people: { login: string; name: string; role: string; canAddActivities: boolean }[];
}

function toolSection(v: CourseView, tool: CourseView['tools'][number]) {
  const headingId = `tool-${tool.clientId}`;
  return html`<section aria-labelledby="${headingId}">
<h2 id="${headingId}">${tool.name} <span class="muted">(client id <code>${tool.clientId}</code>, deployment <code>${tool.deploymentId}</code>)</span></h2>
${tool.tasks.length
  ? html`<ol>${tool.tasks.map((t) => html`<li><strong>${t.title}</strong>${t.grading ? html` <span class="muted">(${t.grading})</span>` : ''}${t.description ? html`<br><span class="hint">${t.description}</span>` : ''}
<form method="post" action="${t.duplicateAction}" class="inline"><button type="submit" class="secondary" aria-label="Duplicate ${t.title}">Duplicate</button></form></li>`)}</ol>`
  : html`<p class="muted">No activities for this tool yet${tool.deepLinkHref ? ': an instructor can add one.' : '.'}</p>`}
<table>
<caption>Launch ${tool.name} as…</caption>
<thead><tr><th scope="col">Person</th><th scope="col">Role</th>
${tool.tasks.map((t, i) => html`<th scope="col">Task ${i + 1}: ${t.title}</th>`)}
${tool.nav ? html`<th scope="col">Course navigation</th>` : ''}
${tool.deepLinkHref ? html`<th scope="col">Add activity</th>` : ''}</tr></thead>
<tbody>
${v.people.map((p) => html`<tr><th scope="row">${p.name} <span class="muted">(${p.login})</span></th><td>${p.role}</td>
${tool.tasks.map((t) => html`<td><a class="button" href="${t.href(p.login)}" aria-label="Launch as ${p.login}: ${t.title}">Launch as ${p.login}</a></td>`)}
${tool.nav ? html`<td><a class="button secondary" href="${tool.nav.href(p.login)}" aria-label="Open as ${p.login}: ${tool.nav.title} (course navigation)">Open as ${p.login}</a></td>` : ''}
${tool.deepLinkHref
  ? html`<td>${p.canAddActivities ? html`<a class="button secondary" href="${tool.deepLinkHref(p.login)}" aria-label="Add activity as ${p.login} with ${tool.name}">Add activity</a>` : html`<span class="muted">—</span>`}</td>`
  : ''}</tr>`)}
</tbody>
</table>
</section>`;
}

/** The course home: people × tasks launch grid per tool, gradebook link, dynamic registration form. */
export function coursePage(v: CourseView): string {
  return layout({
    title: v.course.title,
    body: html`<h1>${v.course.label}: ${v.course.title}</h1>
${v.registered ? html`<div class="notice" role="status"><p>The tool finished its registration. Registered tools are listed below.</p></div>` : ''}
<p>A development LMS: each button opens the tool inside this LMS's page, in an iframe, as that person. <a href="/gradebook">Open the gradebook</a>.</p>
${v.tools.map((t) => toolSection(v, t))}
<section aria-labelledby="register-heading">
<h2 id="register-heading">Register a tool (LTI Dynamic Registration)</h2>
<form method="post" action="/dynamic-registration">
<label for="registration_url">Tool registration URL</label>
<input type="url" id="registration_url" name="registration_url" required placeholder="${v.defaultRegistrationUrl}" aria-describedby="registration_url_hint">
<p class="hint" id="registration_url_hint">Paste the tool's registration link (llm-assess: <em>LMS registrations → Create registration link</em>, or <code>npm run lti -- invite</code>). The LMS opens it with <code>openid_configuration</code> and a one-time <code>registration_token</code>, as Moodle does.</p>
<p><button type="submit">Start registration</button></p>
</form>
</section>`,
  });
}
