import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

/**
 * Markdown → safe HTML, for everything people write that we show as markdown (prompts, feedback, model output).
 * marked renders; sanitize-html then keeps only formatting tags and http(s)/mailto links, so a `<script>`, an
 * event handler attribute or a `javascript:` link in the source arrives as inert text or not at all.
 */
const marked = new Marked({ gfm: true, breaks: false, async: false });

const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'hr', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: { a: ['href', 'title', 'rel', 'target'], th: ['align'], td: ['align'], ol: ['start'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  // Links leave the LMS frame and tell nothing about where they came from.
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }) },
  disallowedTagsMode: 'escape',
};

export function renderMarkdown(source: string): string {
  return sanitizeHtml(marked.parse(source ?? '') as string, ALLOWED);
}
