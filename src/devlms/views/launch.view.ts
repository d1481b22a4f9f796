import { html } from '../http/html.js';
import { layout } from './layout.js';

export interface LaunchView {
  courseTitle: string;
  title: string;
  personName: string;
  login: string;
  role: string;
  toolName: string;
  loginUrl: string;
  /** Content selection (deep linking): framed as Moodle frames it, in a modal 600 px high. */
  modal: boolean;
}

/** The LMS page around the tool: the iframe starts the OIDC login at the tool, cross-site, as Canvas frames tools. */
export function launchPage(v: LaunchView): string {
  return layout({
    title: v.title,
    wide: true,
    body: html`<h1>${v.title}</h1>
<p class="muted">${v.courseTitle} · signed in as <strong>${v.personName}</strong> (${v.login}, ${v.role}) · <a href="/">Back to the course</a></p>
<iframe class="tool${v.modal ? ' modal' : ''}" id="tool-frame" name="tool-frame" title="${v.title} (${v.toolName})" src="${v.loginUrl}" allow="clipboard-write"></iframe>`,
  });
}
