/**
 * Our own declarations for the parts of ltijs 5.9.9 and ltijs-sequelize 2.4.4 we use (@types/ltijs is stale).
 * Checked against the sources in node_modules; the version is pinned exactly in package.json.
 */
declare module 'ltijs' {
  import type { Express, Request, Response, NextFunction } from 'express';

  export interface AuthConfig {
    method: 'JWK_SET' | 'JWK_KEY' | 'RSA_KEY';
    key: string;
  }

  export interface PlatformRegistration {
    url: string;
    name: string;
    clientId: string;
    authenticationEndpoint: string;
    accesstokenEndpoint: string;
    authorizationServer?: string;
    authConfig: AuthConfig;
  }

  export interface LtijsPlatform {
    platformUrl(): Promise<string>;
    platformClientId(): Promise<string>;
    platformName(): Promise<string>;
    platformId(): Promise<string>;
    platformKid(): Promise<string>;
    platformActive(active?: boolean): Promise<boolean>;
    platformAuthConfig(): Promise<AuthConfig>;
    platformAuthEndpoint(): Promise<string>;
    platformAccessTokenEndpoint(): Promise<string>;
    platformAuthorizationServer(): Promise<string>;
    platformPublicKey(): Promise<string>;
    /** The tool's private key for this platform, PKCS#1 PEM (decrypted with the LTI key). */
    platformPrivateKey(): Promise<string>;
    delete(): Promise<boolean>;
  }

  /** res.locals.token after a launch or with a valid ltik. */
  export interface IdToken {
    iss: string;
    user: string;
    userInfo: { given_name?: string; family_name?: string; name?: string; email?: string };
    platformInfo?: Record<string, unknown>;
    clientId: string;
    platformId: string;
    deploymentId: string;
    platformContext: ContextToken;
  }

  /** res.locals.context */
  export interface ContextToken {
    contextId: string;
    user: string;
    path?: string;
    roles: string[];
    targetLinkUri?: string;
    context?: { id: string; label?: string; title?: string; type?: string[] };
    resource?: { id: string; title?: string; description?: string };
    custom?: Record<string, string>;
    launchPresentation?: { document_target?: string; return_url?: string; locale?: string };
    endpoint?: { scope?: string[]; lineitems?: string; lineitem?: string };
    namesRoles?: { context_memberships_url: string; service_versions?: string[] };
    messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
    version?: string;
    deepLinkingSettings?: {
      deep_link_return_url: string;
      accept_types?: string[];
      accept_presentation_document_targets?: string[];
      accept_multiple?: boolean;
      auto_create?: boolean;
      data?: string;
      title?: string;
      text?: string;
    };
  }

  export interface ContentItem {
    type: 'ltiResourceLink';
    title?: string;
    text?: string;
    url?: string;
    custom?: Record<string, string>;
    lineItem?: { scoreMaximum: number; label: string; resourceId?: string; tag?: string };
  }

  export interface DatabasePlugin {
    setup(): Promise<boolean>;
    Close(): Promise<boolean>;
    Get(encryptionKey: string | false, table: string, info?: Record<string, unknown>): Promise<Record<string, unknown>[] | false>;
    Insert(encryptionKey: string | false, table: string, item: Record<string, unknown>, index?: Record<string, unknown>): Promise<boolean>;
    Delete(table: string, info: Record<string, unknown>): Promise<boolean>;
  }

  type Handler = (req: Request, res: Response, next: NextFunction) => unknown;
  type ConnectHandler = (token: IdToken, req: Request, res: Response, next: NextFunction) => unknown;

  export interface ProviderInstance {
    app: Express;
    Database: DatabasePlugin;
    Grade: {
      getLineItems(token: Partial<IdToken>, options?: Record<string, unknown>): Promise<{ lineItems: Array<Record<string, unknown>> }>;
      createLineItem(token: Partial<IdToken>, lineItem: Record<string, unknown>, options?: Record<string, unknown>): Promise<Record<string, unknown>>;
      submitScore(token: Partial<IdToken>, lineItemId: string, score: Record<string, unknown>): Promise<Record<string, unknown>>;
      getScores(token: Partial<IdToken>, lineItemId: string, options?: Record<string, unknown>): Promise<Record<string, unknown>>;
    };
    NamesAndRoles: {
      getMembers(token: Partial<IdToken>, options?: Record<string, unknown>): Promise<{ members: Array<Record<string, unknown>>; next?: string }>;
    };
    DeepLinking: {
      createDeepLinkingMessage(token: IdToken, contentItems: ContentItem[], options?: { message?: string; errMessage?: string; log?: string; errLog?: string }): Promise<string>;
    };
    setup(key: string, database: { plugin: DatabasePlugin }, options: Record<string, unknown>): ProviderInstance;
    onConnect(cb: ConnectHandler): true;
    onDeepLinking(cb: ConnectHandler): true;
    onInvalidToken(cb: Handler): true;
    onSessionTimeout(cb: Handler): true;
    onUnregisteredPlatform(cb: Handler): true;
    onInactivePlatform(cb: Handler): true;
    whitelist(...routes: Array<string | RegExp | { route: string | RegExp; method: string }>): unknown;
    registerPlatform(platform: PlatformRegistration): Promise<LtijsPlatform>;
    getPlatform(url: string, clientId: string): Promise<LtijsPlatform | false>;
    getPlatform(url: string): Promise<LtijsPlatform[] | false>;
    getPlatformById(id: string): Promise<LtijsPlatform | false>;
    deletePlatform(url: string, clientId: string): Promise<boolean>;
    getAllPlatforms(): Promise<LtijsPlatform[]>;
  }

  export const Provider: ProviderInstance;
}

declare module 'ltijs/dist/Utils/Auth.js' {
  const Auth: {
    validateToken(
      token: string,
      devMode: boolean,
      validationParameters: { iss?: string; maxAge?: number; alg?: string },
      getPlatform: unknown,
      encryptionKey: string,
      database: unknown,
    ): Promise<Record<string, unknown>>;
  };
  export default Auth;
}

declare module 'ltijs-sequelize' {
  import type { DatabasePlugin } from 'ltijs';
  const Database: new (
    database: string,
    user: string,
    password: string,
    options: Record<string, unknown>,
  ) => DatabasePlugin & { db: { close(): Promise<void> } };
  export default Database;
}
