import path from 'node:path';

/**
 * Source-code files students may hand in, by extension, with the language the grading request names. The name
 * comes from this table, never from the file: a student chooses only which of these the model is told.
 */
const LANGUAGES: Record<string, string> = {
  '.py': 'Python',
  '.java': 'Java',
  '.js': 'JavaScript',
  '.mjs': 'JavaScript',
  '.cjs': 'JavaScript',
  '.jsx': 'JavaScript (JSX)',
  '.ts': 'TypeScript',
  '.tsx': 'TypeScript (TSX)',
  '.c': 'C',
  '.h': 'C or C++ header',
  '.cpp': 'C++',
  '.cc': 'C++',
  '.cxx': 'C++',
  '.hpp': 'C++ header',
  '.cs': 'C#',
  '.go': 'Go',
  '.rb': 'Ruby',
  '.rs': 'Rust',
  '.php': 'PHP',
  '.kt': 'Kotlin',
  '.kts': 'Kotlin',
  '.swift': 'Swift',
  '.scala': 'Scala',
  '.r': 'R',
  '.m': 'MATLAB or Objective-C',
  '.jl': 'Julia',
  '.hs': 'Haskell',
  '.lua': 'Lua',
  '.pl': 'Perl',
  '.dart': 'Dart',
  '.sql': 'SQL',
  '.sh': 'Shell (sh/bash)',
  '.bash': 'Shell (bash)',
  '.ps1': 'PowerShell',
  '.html': 'HTML',
  '.htm': 'HTML',
  '.css': 'CSS',
  '.scss': 'SCSS',
  '.xml': 'XML',
  '.json': 'JSON',
  '.yaml': 'YAML',
  '.yml': 'YAML',
  '.tex': 'LaTeX',
  '.asm': 'Assembly',
  '.s': 'Assembly',
  '.vb': 'Visual Basic',
  '.fs': 'F#',
  '.ex': 'Elixir',
  '.erl': 'Erlang',
  '.clj': 'Clojure',
  '.ml': 'OCaml',
  '.pas': 'Pascal',
  '.f90': 'Fortran',
};

/** The extensions accepted as source code (lower case, with the dot), for the form's `accept` and the README. */
export const CODE_EXTENSIONS: readonly string[] = Object.keys(LANGUAGES);

/**
 * The programming language of a submission from its stored file name, or null for typed work, plain text and
 * documents. Derived again wherever a request is built (submit, requeue, send, review), so all of them agree.
 */
export function languageOfFile(filename: string | null | undefined): string | null {
  if (!filename) return null;
  return LANGUAGES[path.extname(filename).toLowerCase()] ?? null;
}
