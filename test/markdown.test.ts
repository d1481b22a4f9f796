import { describe, expect, it } from '@jest/globals';
import { renderMarkdown } from '../src/http/markdown.js';

describe('markdown rendering', () => {
  it('keeps formatting', () => {
    expect(renderMarkdown('**bold** and *em*\n\n- one\n- two')).toBe('<p><strong>bold</strong> and <em>em</em></p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n');
  });

  it('never lets a script, an event handler or a javascript: link through', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) <a href="javascript:alert(4)">x</a>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/onerror=/i);
    expect(html).not.toMatch(/href="javascript:/i);
    expect(html).toContain('&lt;script&gt;');
  });

  it('opens links outside the LMS frame without a referrer', () => {
    expect(renderMarkdown('[docs](https://example.edu/x)')).toBe('<p><a href="https://example.edu/x" rel="noopener noreferrer nofollow" target="_blank">docs</a></p>\n');
  });
});
