import { LTI_ROUTES } from './provider.js';

/**
 * The Canvas developer key configuration (Admin → Developer Keys → + LTI Key → Paste JSON). Served at
 * /lti/canvas-config.json with this deployment's URL; lti-config.json at the repository root is the same for
 * http://localhost:3000 (a test keeps them equal).
 */
export function canvasConfig(toolUrl: string) {
  const launch = `${toolUrl}${LTI_ROUTES.launch}`;
  return {
    title: 'llm-assess',
    description: 'Grade complex learning tasks with LLMs through batch APIs, with instructor review before grades reach the gradebook.',
    oidc_initiation_url: `${toolUrl}${LTI_ROUTES.login}`,
    target_link_uri: launch,
    public_jwk_url: `${toolUrl}${LTI_ROUTES.keys}`,
    scopes: [
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
    ],
    extensions: [
      {
        domain: new URL(toolUrl).host,
        tool_id: 'llm-assess',
        platform: 'canvas.instructure.com',
        privacy_level: 'public',
        settings: {
          text: 'llm-assess',
          placements: [
            {
              placement: 'course_navigation',
              message_type: 'LtiResourceLinkRequest',
              target_link_uri: `${launch}?placement=course_navigation`,
              text: 'llm-assess',
              default: 'enabled',
              windowTarget: '_self',
            },
            { placement: 'assignment_selection', message_type: 'LtiDeepLinkingRequest', target_link_uri: launch, text: 'llm-assess activity' },
            { placement: 'link_selection', message_type: 'LtiDeepLinkingRequest', target_link_uri: launch, text: 'llm-assess activity' },
          ],
        },
      },
    ],
    custom_fields: {
      canvas_course_id: '$Canvas.course.id',
      canvas_user_id: '$Canvas.user.id',
    },
  };
}
