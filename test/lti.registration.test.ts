import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { startStack, testEnv, type Stack } from './helpers/stack.js';
import type { ToolSession } from './helpers/lti-browser.js';
import { addActivityByDeepLinking, mintFor, registerByDynamicRegistration } from './helpers/launches.js';
import { textOf } from './helpers/html.js';
import { freePort } from './helpers/ports.js';

const run = promisify(execFile);

describe('platform registration, deployments and deep linking', () => {
  let stack: Stack;
  let admin: ToolSession;
  beforeAll(async () => {
    stack = await startStack();
    admin = await stack.browser().launch(stack.devlmsUrl, 'admin');
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const platformCount = async () => (await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from lti_platforms`)).rows[0]!.n;

  describe('dynamic registration', () => {
    it('registers the LMS with the deployment it assigns, and a launch through it works', async () => {
      const { clientId, completePage } = await registerByDynamicRegistration(stack, admin, 'Moodle (test)');
      expect(textOf(completePage)).toContain('Registration complete');
      expect(completePage).toContain('data-lti-close');
      const rows = await stack.db.db.execute<{ name: string; deployments: string[] }>(sql`
        select p.name, array_agg(d.deployment_id) as deployments from lti_platforms p join lti_deployments d on d.platform_id = p.id
        where p.client_id = ${clientId} group by p.name`);
      expect(rows.rows[0]!.name).toBe('Moodle (test)');
      expect(rows.rows[0]!.deployments).toHaveLength(1);
      await addActivityByDeepLinking(stack, stack.browser(), { title: 'Dynamic essay', client: clientId });
      const student = await stack.browser().launch(stack.devlmsUrl, 'student2', { task: '1', client: clientId });
      expect(textOf(student.home.html)).toContain('Dynamic essay');
    });

    it('refuses a used, unknown or expired link and registers nothing', async () => {
      const invite = await admin.post('/admin/registration-invites', { note: 'once', becomes: 'platform' }, { htmx: true });
      const url = invite.html.match(/<code class="copyable">([^<]+)<\/code>/)![1]!;
      const config = encodeURIComponent(`${stack.devlmsUrl}/.well-known/openid-configuration`);
      const browser = stack.browser();
      // Spend it with a configuration that fails; it stays spent.
      const first = await browser.request(`${url}?openid_configuration=${encodeURIComponent('http://127.0.0.1:1/nothing')}`);
      expect(first.status).toBe(502);
      expect(textOf(first.html)).toMatch(/The LMS did not answer the registration as an LTI platform does/);
      const before = await platformCount();
      const again = await browser.request(`${url}?openid_configuration=${config}`);
      expect(again.status).toBe(403);
      expect(textOf(again.html)).toMatch(/unknown, expired or already used/);
      const unknown = await browser.request(`${stack.toolUrl}/lti/dynamic-registration/not-a-token?openid_configuration=${config}`);
      expect(unknown.status).toBe(403);

      const expired = await admin.post('/admin/registration-invites', { note: 'late', becomes: 'platform' }, { htmx: true });
      const expiredUrl = expired.html.match(/<code class="copyable">([^<]+)<\/code>/)![1]!;
      await stack.db.db.execute(sql`update registration_invites set expires_at = now() - interval '1 minute' where note = 'late'`);
      const late = await browser.request(`${expiredUrl}?openid_configuration=${config}`);
      expect(late.status).toBe(403);
      expect(await platformCount()).toBe(before);
    });

    it('refuses a configuration that is missing, not https, or not served under its issuer', async () => {
      const browser = stack.browser();
      const invite = async () => (await admin.post('/admin/registration-invites', { becomes: 'platform' }, { htmx: true })).html.match(/<code class="copyable">([^<]+)<\/code>/)![1]!;
      const before = await platformCount();
      let page = await browser.request(await invite());
      expect(page.status).toBe(400);
      expect(textOf(page.html)).toMatch(/did not send its openid_configuration/);
      page = await browser.request(`${await invite()}?openid_configuration=${encodeURIComponent('http://lms.example.edu/.well-known/openid-configuration')}`);
      expect(page.status).toBe(400);
      expect(textOf(page.html)).toMatch(/must use https/);
      // The dev LMS's configuration names issuer http://127.0.0.1:<port>; serve it from "localhost" instead.
      const moved = `${stack.devlmsUrl.replace('127.0.0.1', 'localhost')}/.well-known/openid-configuration`;
      page = await browser.request(`${await invite()}?openid_configuration=${encodeURIComponent(moved)}`);
      expect(page.status).toBe(400);
      expect(textOf(page.html)).toMatch(/not served from under that URL/);
      expect(await platformCount()).toBe(before);
    });

    it('keeps ltijs\' open registration endpoint disabled', async () => {
      const res = await fetch(`${stack.toolUrl}/lti/register?openid_configuration=${encodeURIComponent(`${stack.devlmsUrl}/.well-known/openid-configuration`)}`);
      expect(res.status).toBe(403);
    });

    it('validates the note of a registration link', async () => {
      const res = await admin.post('/admin/registration-invites', { note: 'x'.repeat(201), becomes: 'platform' }, { htmx: true });
      expect(res.status).toBe(422);
      expect(res.html).toContain('at most 200 characters');
    });
  });

  describe('deployments', () => {
    it('lets an administrator allow and revoke deployments of their own platform', async () => {
      const added = await admin.post('/admin/platforms/deployments', { deploymentId: 'second-course' }, { htmx: true });
      expect(added.status).toBe(200);
      expect(added.html).toContain('second-course');
      const last = await stack.db.db.execute<{ n: number }>(sql`
        select count(*)::int as n from lti_deployments d join lti_platforms p on p.id = d.platform_id where p.client_id = 'llm-assess-dev'`);
      expect(last.rows[0]!.n).toBe(2);
      const removed = await admin.post('/admin/platforms/deployments/remove', { deploymentId: 'second-course' }, { htmx: true });
      expect(removed.status).toBe(200);
      expect(removed.html).not.toContain('second-course');
      const unknown = await admin.post('/admin/platforms/deployments/remove', { deploymentId: 'never-there' }, { htmx: true });
      expect(unknown.status).toBe(404);
      const lastOne = await admin.post('/admin/platforms/deployments/remove', { deploymentId: '1' }, { htmx: true });
      expect(lastOne.status).toBe(409);
      expect(textOf(lastOne.html)).toMatch(/last allowed deployment/);
    });
  });

  describe('deep linking', () => {
    it('creates a task and one resource link with one gradebook column in the LMS', async () => {
      const { lmsPage, toolAnswer } = await addActivityByDeepLinking(stack, stack.browser(), { title: 'Reflection on sources', maxScore: 20 });
      expect(textOf(lmsPage)).toContain('Reflection on sources');
      // The answer page posts to the LMS: its CSP allows exactly that origin as a form target.
      expect(toolAnswer).toContain('data-autosubmit');
      const task = await stack.db.db.execute<{ max_score: number }>(sql`select max_score from tasks where title = 'Reflection on sources'`);
      expect(task.rows[0]!.max_score).toBe(20);
      const student = await stack.browser().launch(stack.devlmsUrl, 'student3', { task: '3' });
      expect(textOf(student.home.html)).toContain('Reflection on sources');
      const tasks = await stack.db.db.execute<{ n: number }>(sql`select count(*)::int as n from tasks where title = 'Reflection on sources'`);
      expect(tasks.rows[0]!.n).toBe(1);
    });

    it('places a task once, from the moment the answer is made: not again before its first launch, nor twice at once', async () => {
      const first = await stack.browser().launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking' });
      const placed = await first.post('/deep-linking', { taskId: 'new', title: 'Placed once', maxScore: '10' });
      expect(placed.status).toBe(200);
      const id = (await stack.db.db.execute<{ id: number; placed: boolean }>(sql`select id, placed_at is not null as placed from tasks where title = 'Placed once'`)).rows[0]!;
      expect(id.placed).toBe(true);
      // Nobody launched it yet (no resource link), and the picker already shows it as placed and refuses it.
      const second = await stack.browser().launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking' });
      expect(second.home.html).toMatch(new RegExp(`id="task-${id.id}"[^>]*disabled`));
      const again = await second.post('/deep-linking', { taskId: String(id.id) });
      expect(again.status).toBe(422);
      expect(textOf(again.html)).toMatch(/“Placed once” is already in the course/);

      // A task made in the tool but never placed: two instructors placing it at once get one placement.
      const courseId = (await stack.db.db.execute<{ course_id: number }>(sql`select course_id from tasks where id = ${id.id}`)).rows[0]!.course_id;
      const unplaced = (await stack.db.db.execute<{ id: number }>(sql`insert into tasks (course_id, title, max_score) values (${courseId}, 'Not yet placed', 10) returning id`)).rows[0]!.id;
      const [a, b] = [await stack.browser().launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking' }), await stack.browser().launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking' })];
      const answers = await Promise.all([a, b].map((s) => s.post('/deep-linking', { taskId: String(unplaced) })));
      expect(answers.map((r) => r.status).sort()).toEqual([200, 422]);
    });

    it('asks for a title (422) and refuses students and plain launches', async () => {
      const session = await stack.browser().launch(stack.devlmsUrl, 'instructor', { message: 'deep_linking' });
      const missing = await session.post('/deep-linking', { taskId: 'new', title: '', maxScore: '10' });
      expect(missing.status).toBe(422);
      expect(missing.html).toContain('Give the new task a title.');
      const badScore = await session.post('/deep-linking', { taskId: 'new', title: 'x', maxScore: '-3' });
      expect(badScore.status).toBe(422);
      expect(badScore.html).toContain('The maximum score must be above 0.');
      const foreign = await session.post('/deep-linking', { taskId: '999999' });
      expect(foreign.status).toBe(404);
      // A task already placed (it has its column) is not placed again: that would be a duplicate column.
      const placed = await stack.db.db.execute<{ id: number }>(sql`select id from tasks where resource_link_id is not null order by id limit 1`);
      const again = await session.post('/deep-linking', { taskId: String(placed.rows[0]!.id) });
      expect(again.status).toBe(422);
      expect(textOf(again.html)).toMatch(/already in the course with its gradebook column/);

      const plain = await stack.browser().launch(stack.devlmsUrl, 'instructor', { task: '1' });
      expect((await plain.get('/deep-linking')).status).toBe(400);
      // The dev LMS offers students no deep linking (as real LMSs do not); a token saying so anyway is refused.
      const browser = stack.browser();
      const { authUrl } = await browser.startLogin(stack.devlmsUrl, 'instructor', { message: 'deep_linking' });
      const token = await mintFor(stack, authUrl, { set: { 'https://purl.imsglobal.org/spec/lti/claim/roles': ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'] } });
      const refused = await browser.request(token.redirect_uri, { form: { id_token: token.id_token, state: token.state } });
      expect(refused.status).toBe(403);
      expect(textOf(refused.html)).toContain('Only instructors can add llm-assess activities');
    });
  });

  it('says at its own address, opened outside an LMS, how to register the first LMS (issue 15, item 3)', async () => {
    const page = await stack.browser().request(`${stack.toolUrl}/`);
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('Register the first LMS');
    expect(text).toContain('npm run lti -- invite --issuer');
    expect(text).toContain(`Initiate login URL ${stack.toolUrl}/lti/login`);
    expect(text).toContain(`Public keyset URL ${stack.toolUrl}/lti/keys`);
    // Nothing about who is registered, and no session needed.
    expect(text).not.toContain('llm-assess-dev');
    expect(page.html).toContain('href="/lti/canvas-config.json"');
  });

  describe('the lti CLI', () => {
    const cli = async (args: string[], extra: Record<string, string> = {}) => {
      const env = { ...process.env, ...testEnv(stack.db, await freePort()), ...extra };
      try {
        const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/lti.ts', ...args], { env, timeout: 60_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    it('registers a platform, lists it, and manages its deployments', async () => {
      const registration = [
        'register', '--name', 'CLI Moodle', '--issuer', 'https://moodle.example.edu', '--client-id', 'cli-client',
        '--auth-url', 'https://moodle.example.edu/mod/lti/auth.php', '--token-url', 'https://moodle.example.edu/mod/lti/token.php',
        '--jwks-url', 'https://moodle.example.edu/mod/lti/certs.php', '--deployment', '7',
      ];
      const reg = await cli(registration);
      expect(reg.stderr).toBe('');
      expect(reg.code).toBe(0);
      expect(reg.stdout).toContain('Registered CLI Moodle');
      // Registering the same issuer and client again changes nothing unless the operator says --update.
      const again = await cli([...registration.map((a) => (a === 'CLI Moodle' ? 'Renamed' : a))]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('is already registered with client id cli-client; its registration was not changed');
      const update = await cli([...registration.map((a) => (a === 'CLI Moodle' ? 'CLI Moodle 4.5' : a)), '--update']);
      expect(update.code).toBe(0);
      expect(update.stdout).toContain('Updated CLI Moodle 4.5');
      const add = await cli(['deployment', 'add', '--issuer', 'https://moodle.example.edu', '--client-id', 'cli-client', '--deployment', '8']);
      expect(add.stdout).toContain('Deployment 8 allowed.');
      const list = await cli(['list']);
      expect(list.stdout).toMatch(/CLI Moodle 4.5\s+issuer https:\/\/moodle.example.edu\s+client cli-client\s+deployments 7, 8/);
    }, 120_000);

    it('asks what a second client of a registered LMS becomes, and joins it to the platform named (issue 15, item 7)', async () => {
      const second = [
        'register', '--name', 'CLI Moodle again', '--issuer', 'https://moodle.example.edu', '--client-id', 'cli-client-2',
        '--auth-url', 'https://moodle.example.edu/mod/lti/auth.php', '--token-url', 'https://moodle.example.edu/mod/lti/token.php',
        '--jwks-url', 'https://moodle.example.edu/mod/lti/certs.php', '--deployment', '9',
      ];
      const before = await platformCount();
      const undecided = await cli(second);
      expect(undecided.code).toBe(1);
      expect(undecided.stderr).toMatch(/The LMS https:\/\/moodle.example.edu is already registered here as "CLI Moodle 4.5" \(platform \d+\)\. Decide what this new client is/);
      expect(undecided.stderr).toContain('--join <platform id>');
      expect(await platformCount()).toBe(before);
      const badId = await cli([...second, '--join', 'first']);
      expect(badId.code).toBe(1);
      expect(badId.stderr).toContain('--join takes a platform id');

      const target = (await stack.db.db.execute<{ id: number }>(sql`select id from lti_platforms where client_id = 'cli-client'`)).rows[0]!.id;
      const otherIssuer = await cli([...second.map((a) => a.replace('moodle.example.edu', 'other.example.edu')), '--join', String(target)]);
      expect(otherIssuer.code).toBe(1);
      expect(otherIssuer.stderr).toContain(`Platform ${target} is the LMS https://moodle.example.edu; a client of https://other.example.edu cannot join it.`);
      const joined = await cli([...second, '--join', String(target)]);
      expect(joined.stderr).toBe('');
      expect(joined.stdout).toContain(`Registered CLI Moodle again as a client of platform ${target}`);
      const row = (await stack.db.db.execute<{ joined_platform_id: number; courses_of: string }>(sql`
        select p.joined_platform_id, d.courses_of from lti_platforms p join lti_deployments d on d.platform_id = p.id where p.client_id = 'cli-client-2'`)).rows[0]!;
      // Its deployment opens the courses of the platform's first deployment (Moodle course ids are site-wide).
      expect(row).toEqual({ joined_platform_id: target, courses_of: '7' });
      expect((await cli(['list'])).stdout).toMatch(new RegExp(`CLI Moodle again  client of platform ${target}`));

      // A client cannot be joined to a client; an invite names the platform whose client it registers.
      const clientRow = (await stack.db.db.execute<{ id: number }>(sql`select id from lti_platforms where client_id = 'cli-client-2'`)).rows[0]!.id;
      const toClient = await cli(['invite', '--join', String(clientRow)]);
      expect(toClient.code).toBe(1);
      expect(toClient.stderr).toContain(`Platform ${clientRow} is itself a client of platform ${target}; join that one.`);
      const invite = await cli(['invite', '--join', String(target), '--note', 'Moodle again']);
      expect(invite.code).toBe(0);
      expect(invite.stdout).toContain('only for another client of CLI Moodle 4.5 (https://moodle.example.edu)');
      const stored = (await stack.db.db.execute<{ issuer: string; join_platform_id: number }>(sql`select issuer, join_platform_id from registration_invites where note = 'Moodle again'`)).rows[0]!;
      expect(stored).toEqual({ issuer: 'https://moodle.example.edu', join_platform_id: target });
    }, 180_000);

    it('refuses bad input with a message and exit code 1, registering nothing', async () => {
      const before = await platformCount();
      const bad = await cli(['register', '--issuer', 'http://not-https.example', '--client-id', 'x', '--auth-url', 'nope', '--token-url', 'https://a.example/t', '--jwks-url', 'https://a.example/k']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/issuer must be an https:\/\/ URL/);
      expect(bad.stderr).toMatch(/authenticationEndpoint must be a URL/);
      expect(bad.stderr).toMatch(/deploymentIds/);
      const config = await cli(['list'], { PORT: 'not-a-port' });
      expect(config.code).toBe(1);
      expect(config.stderr).toMatch(/PORT: /);
      expect(await platformCount()).toBe(before);
    }, 120_000);
  });
});
