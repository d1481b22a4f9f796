import { html, scriptJson } from '../http/html.js';
import { layout } from './layout.js';

/**
 * The tool's registration page framed by the LMS, as Moodle does it: the LMS listens for the tool's
 * `org.imsglobal.lti.close` message (from the tool's origin only) and then returns to the course page.
 */
export function registrationFramePage(v: { frameSrc: string; toolOrigin: string }): string {
  return layout({
    title: 'Register a tool',
    wide: true,
    body: html`<h1>Register a tool (LTI Dynamic Registration)</h1>
<p id="registration-status" role="status">The tool's registration page is below. When the tool finishes, this page returns to the course.</p>
<iframe id="registration-frame" class="tool" title="Tool registration" src="${v.frameSrc}" allow="clipboard-write"></iframe>
<script>
(function () {
  var toolOrigin = ${scriptJson(v.toolOrigin)};
  window.addEventListener('message', function (event) {
    if (event.origin !== toolOrigin || !event.data || event.data.subject !== 'org.imsglobal.lti.close') return;
    document.getElementById('registration-status').textContent = 'The tool finished its registration.';
    window.location.href = '/?registered=1';
  });
})();
</script>`,
  });
}
