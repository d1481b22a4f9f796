/** Claim names, role URIs and scopes of LTI 1.3 and its services, spelled once. */

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL = 'https://purl.imsglobal.org/spec/lti-dl/claim/';

export const CLAIM = {
  messageType: `${LTI}message_type`,
  version: `${LTI}version`,
  deploymentId: `${LTI}deployment_id`,
  targetLinkUri: `${LTI}target_link_uri`,
  resourceLink: `${LTI}resource_link`,
  roles: `${LTI}roles`,
  context: `${LTI}context`,
  toolPlatform: `${LTI}tool_platform`,
  launchPresentation: `${LTI}launch_presentation`,
  custom: `${LTI}custom`,
  lis: `${LTI}lis`,
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  deepLinkingSettings: `${DL}deep_linking_settings`,
  contentItems: `${DL}content_items`,
  data: `${DL}data`,
  msg: `${DL}msg`,
  errormsg: `${DL}errormsg`,
  log: `${DL}log`,
  errorlog: `${DL}errorlog`,
} as const;

/** ltijs 5.9.9 writes the error message under this misspelled name (ltijs trap 10); a tolerant platform reads both. */
export const ERRORMSG_LTIJS = `${DL}errormsg `;

export const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
export const PLATFORM_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-platform-configuration';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

export const ROLE = {
  learner: `${LIS}membership#Learner`,
  instructor: `${LIS}membership#Instructor`,
  institutionAdministrator: `${LIS}institution/person#Administrator`,
  institutionFaculty: `${LIS}institution/person#Faculty`,
  institutionStudent: `${LIS}institution/person#Student`,
  systemUser: `${LIS}system/person#User`,
} as const;

export const COURSE_OFFERING = `${LIS}course#CourseOffering`;

export const SCOPE = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  membershipReadonly: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
} as const;

export const AGS_SCOPES: readonly string[] = [SCOPE.lineItem, SCOPE.lineItemReadonly, SCOPE.resultReadonly, SCOPE.score];
export const SERVICE_SCOPES: readonly string[] = [...AGS_SCOPES, SCOPE.membershipReadonly];

export const MESSAGE_TYPE = {
  resourceLink: 'LtiResourceLinkRequest',
  deepLinking: 'LtiDeepLinkingRequest',
  deepLinkingResponse: 'LtiDeepLinkingResponse',
} as const;
export type LaunchMessageType = typeof MESSAGE_TYPE.resourceLink | typeof MESSAGE_TYPE.deepLinking;

export const MEDIA_TYPE = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
  membershipContainer: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
} as const;
