import { html, SafeHtml } from '../http/html.js';
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

/**
 * The LMS page around the tool: the iframe starts the OIDC login at the tool, cross-site, as Canvas frames tools.
 * The frame grows with the tool's page when the tool posts `lti.frameResize` (as Canvas does it): only from the
 * tool's own frame (`event.source`), a height in pixels. The modal (content selection) keeps its fixed size.
 */
export function launchPage(v: LaunchView): string {
  return layout({
    title: v.title,
    wide: true,
    body: html`<h1>${v.title}</h1>
<p class="muted">${v.courseTitle} · signed in as <strong>${v.personName}</strong> (${v.login}, ${v.role}) · <a href="/">Back to the course</a></p>
<iframe class="tool${v.modal ? ' modal' : ''}" id="tool-frame" name="tool-frame" title="${v.title} (${v.toolName})" src="${v.loginUrl}" allow="clipboard-write"></iframe>
${v.modal ? '' : FRAME_RESIZE}`,
  });
}

// Canvas reads the message as an object or as its JSON text; so does this. Heights are clamped: a tool cannot make
// the LMS page endless.
const FRAME_RESIZE = new SafeHtml(`<script>
(function () {
  var frame = document.getElementById('tool-frame');
  window.addEventListener('message', function (event) {
    if (!frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (typeof data === 'string') {
      try { data = JSON.parse(data); } catch (e) { return; }
    }
    if (!data || data.subject !== 'lti.frameResize') return;
    var height = parseFloat(data.height);
    if (!isFinite(height) || height <= 0) return;
    frame.style.height = Math.min(Math.ceil(height), 100000) + 'px';
  });
})();
</script>`);
