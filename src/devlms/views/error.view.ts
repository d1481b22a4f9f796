import { html } from '../http/html.js';
import { layout } from './layout.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  415: 'Unsupported media type',
  422: 'Invalid input',
  500: 'Something went wrong',
};

export function errorPage(status: number, message: string): string {
  const title = TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'Request refused');
  return layout({
    title,
    body: html`<h1>${title}</h1>
<div class="error" role="alert"><p>${message}</p></div>
<p class="muted">HTTP ${status} from the development LMS. <a href="/" target="_top">Back to the course</a></p>`,
  });
}
