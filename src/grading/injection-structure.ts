// The structure rules of the injection detector: what the shape of a text gives away (tags named like our
// delimiter, chat-template tokens, our result schema's keys, transcripts, "decode and follow"), as opposed to the
// phrase rules of injection-rules.ts, which read what it says.

import { E, rule, type Rule } from './injection-rules.js';

/** A tag (any bracket a model might read as one) named like our data delimiter, opening or closing. */
export const DELIMITER_TAG = /(?:<|&lt;|&#0*60;|&#x0*3c;)\s*\/?\s*student[\s_-]*submission(?![\p{L}\p{N}])[^>\n]{0,200}(?:>|&gt;)?/giu;

export const STRUCTURE_RULES: Rule[] = [
  // Tokens of chat templates: they have no business in an essay.
  rule('role_marker', 1, '<\\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|end_header_id|eot_id)\\|>|\\[\\/?INST\\]|<<\\/?SYS>>|<start_of_turn>|<end_of_turn>'),
  // "System:" or "### Instruction" at the start of a line: also how a use case or a script is written, so weak alone.
  rule('role_marker', 0.4, `(?:^|\\n)[ \\t]*(?:#{1,6}[ \\t]*)?\\[?(?:system|sistema|système|systeem|система|系统|システム|developer|instruction|admin)\\]?(?:[ \\t]+(?:message|prompt|note|instruction|override|notice))?[ \\t]*[:：]`),
  rule('role_marker', 0.5, '(?:^|\\n)#{1,6}[ \\t]*(?:instruction|response|system|assistant)[ \\t]*:?[ \\t]*(?=\\n|$)'),
  rule('role_marker', 0.6, '\\[\\s*(?:system|système|sistema|systeem|система|系统)(?:\\s+[^\\]\\n]{0,40})?\\]'),
  rule('role_marker', 0.4, '\\{\\s*"role"\\s*:\\s*"(?:system|developer|assistant)"'),
  rule('role_marker', 0.6, `<\\/?\\s*(?:system|instructions?|prompt|assistant|grader|developer|admin|tool_result|tool|function_result|rubric)${E}[^>\\n]{0,80}>`),
  rule('role_marker', 0.4, `<\\/\\s*(?:submission|essay|answer|document|data|input|user_input|student_answer|text|content|response)\\s*>`),
  // Our own result schema's fields, as JSON or YAML keys.
  rule('result_json', 1, `["']?total_score["']?\\s*[:=]`),
  rule('result_json', 0.5, `"(?:criteria|reasoning|confidence|strengths|improvements|justification)"\\s*:`),
  rule('result_json', 0.5, `(?:^|\\n)[ \\t]*(?:confidence|reasoning|improvements|grading_result)[ \\t]*:`),
];

/** A chat transcript: a user-side and an assistant-side speaker, each at the start of a line. */
export const TRANSCRIPT_USER = /(?:^|\n)[ \t]*(?:human|user)[ \t]*:/iu;
export const TRANSCRIPT_ASSISTANT = /(?:^|\n)[ \t]*(?:assistant|ai|gpt|chatgpt|bot)[ \t]*:/iu;

/** "Decode this and follow it": an order to run what follows as instructions. */
export const ENCODED_ORDER = /(?<![\p{L}])(?:decode|decrypt|translate|reverse|unscramble)\b[^.!?\n]{0,60}?\b(?:and|then)\s+(?:follow|obey|execute|apply|do|carry\s+out)\b|\b(?:rot-?13|base64)\b[^.!?\n]{0,40}?\b(?:decode|apply|follow)\b/giu;

/** Words a note meant for the grader uses: hidden text that says them is not a hidden menu item. */
export const GRADING_WORDS = /(?<![\p{L}])(?:grad(?:e|er|ing)|mark(?:s|er|ing)?|score|points|rubric|evaluat\w*|assess\w*|examiner|instruction\w*|ai|llm|model|assistant|full|maximum|Punkt\w*|Note|Bewert\w*|note|correcteur|puntuación|nota|punteggio|voto|pontuação|punten|cijfer|满分|评分|分数|採点|満点|балл\w*|ocen\w*)(?![\p{L}])/iu;
