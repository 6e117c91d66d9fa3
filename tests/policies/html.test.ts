import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import * as aws from "@pulumi/aws";
import { runOffline } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { auditRun } from "../../policies/audit";
import { renderHtml } from "../../policies/audit/html";
import { allRules } from "../../policies/rules";
import type { ResourceRule } from "../../policies/rules/types";
import { defaultSettings } from "../../policies/settings";
import { defaultWaiversFile, loadWaivers } from "../../policies/waivers";
import { fixtureReport, logRetentionRule, testRules } from "./audit-fixtures";

// Debian's chromium, driven headless with nothing that reaches the network.
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT_DIR = path.resolve(__dirname, "../../out/test-screenshots");

let browser: BrowserContext;
let profile: string;
beforeAll(async () => {
  // A fresh profile each run (Playwright passes it as --user-data-dir).
  profile = mkdtempSync(path.join(tmpdir(), "audit-html-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
});

/** Opens the page from a file, recording every request that is not the page itself. */
async function open(
  html: string,
  name: string,
  viewport?: { width: number; height: number },
): Promise<{ page: Page; requests: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), "audit-html-"));
  const file = path.join(dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const requests: string[] = [];
  page.on("request", (request) => {
    if (request.url() !== `file://${file}`) requests.push(request.url());
  });
  await page.goto(`file://${file}`);
  return { page, requests };
}

describe("report.html in Chromium", () => {
  it("shows the controls table and the failing rows of a non-compliant stack, fetching nothing", async () => {
    const justification = "Scratch data is regenerated from the records bucket on demand.";
    const xss: ResourceRule = {
      ...logRetentionRule,
      id: "test-markup",
      resourceTypes: ["aws:s3/bucket:Bucket"],
      evaluate: () => ({ status: "fail", message: "<img src=x onerror=alert(1)>", evidence: {} }),
      enforcement: "advisory",
    };
    const report = await fixtureReport({
      retentionInDays: 30,
      versioning: "Suspended",
      waivers: [{ rule: "test-bucket-versioned", resource: "scratch", justification }],
    });
    const withMarkup = await fixtureReport({ rules: [xss] });
    const { page, requests } = await open(renderHtml(report), "non-compliant");

    await expect(page.locator("#result").textContent()).resolves.toBe("FAIL: 2 mandatory failures, 1 advisory finding");
    await expect(page.locator("body").textContent()).resolves.toContain("Rule catalog: docs/rules.md");
    const controls = page.locator("#controls tbody tr");
    await expect(controls.count()).resolves.toBe(report.controls.length);
    const auditRow = page.locator('#controls tr[data-section="164.312(b)"]');
    await expect(auditRow.locator("td").nth(1).textContent()).resolves.toBe("Audit controls");
    await expect(auditRow.locator("td").nth(2).textContent()).resolves.toBe("FAIL");
    await expect(
      page.locator('#controls tr[data-section="164.308(a)(1)(ii)(A)"] td').first().textContent(),
    ).resolves.toBe("164.308(a)(1)(ii)(A) (inferred)");

    const failing = page.locator('tr[data-status="fail"]');
    const failingRows = await failing.evaluateAll((rows) =>
      rows.map((row) => `${row.getAttribute("data-rule")} ${row.getAttribute("data-resource")}`),
    );
    expect(failingRows.sort()).toEqual([
      "test-bucket-tagged scratch",
      "test-bucket-versioned records",
      "test-log-retention app",
    ]);
    const appRow = page.locator('tr[data-rule="test-log-retention"][data-resource="app"]');
    await expect(appRow.locator("td").nth(2).textContent()).resolves.toContain(
      "retentionInDays is 30, expected >= 365",
    );
    await expect(appRow.locator(".evidence").textContent()).resolves.toBe("retentionInDays = 30");
    const waived = page.locator('tr[data-rule="test-bucket-versioned"][data-resource="scratch"]');
    await expect(waived.getAttribute("data-status")).resolves.toBe("waived");
    await expect(waived.textContent()).resolves.toContain(justification);

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "audit-report-fixture.png"), fullPage: true });
    expect(requests).toEqual([]);

    const markup = await open(renderHtml(withMarkup), "markup");
    await expect(markup.page.locator("img").count()).resolves.toBe(0);
    await expect(markup.page.locator('tr[data-rule="test-markup"] td').nth(2).textContent()).resolves.toBe(
      "<img src=x onerror=alert(1)>",
    );
  });
});

/**
 * What a hurried clinic might declare by hand: a public, unencrypted database, SSH open to the
 * world, a bare bucket, short logs.
 */
function nonCompliantProgram() {
  const vpc = new aws.ec2.Vpc("clinic", { cidrBlock: "10.9.0.0/16" });
  new aws.ec2.SecurityGroup("wide-open", {
    vpcId: vpc.id,
    ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
  });
  new aws.rds.Instance("legacy-db", {
    engine: "mysql",
    instanceClass: "db.t3.micro",
    allocatedStorage: 20,
    publiclyAccessible: true,
    storageEncrypted: false,
    username: "admin",
    password: "not-a-real-password",
  });
  new aws.s3.Bucket("patient-exports");
  new aws.cloudwatch.LogGroup("app-logs", { retentionInDays: 30 });
}

describe("report.html of the real pack in Chromium", () => {
  it("shows the controls table and the failing rows of a deliberately non-compliant stack", async () => {
    const run = await runOffline(nonCompliantProgram, { stack: "non-compliant" });
    const report = auditRun(run, { rules: allRules, waivers: [], settings: defaultSettings, configFile: null });
    const { page, requests } = await open(renderHtml(report), "real-non-compliant");

    await expect(page.locator("#result").textContent()).resolves.toMatch(
      /^FAIL: \d+ mandatory failures(, \d+ advisory findings?)?$/,
    );
    await expect(page.locator("#controls tbody tr").count()).resolves.toBe(report.controls.length);
    for (const section of ["164.312(a)(1)", "164.312(a)(2)(iv)", "164.312(b)"]) {
      await expect(
        page.locator(`#controls tr[data-section="${section}"] td`).nth(2).textContent(),
        section,
      ).resolves.toBe("FAIL");
    }
    const failing = await page
      .locator('tr[data-status="fail"]')
      .evaluateAll((rows) =>
        rows.map((row) => `${row.getAttribute("data-rule")} ${row.getAttribute("data-resource")}`),
      );
    expect(failing).toEqual(
      expect.arrayContaining([
        "sg-no-public-ssh wide-open",
        "rds-not-public legacy-db",
        "rds-storage-encrypted legacy-db",
        "s3-public-access-block patient-exports",
        "s3-versioning patient-exports",
        "log-group-retention app-logs",
      ]),
    );
    const sshRow = page.locator('tr[data-rule="sg-no-public-ssh"][data-resource="wide-open"]');
    await expect(sshRow.locator("td").nth(2).textContent()).resolves.toContain("wide-open");
    await expect(page.locator("body").textContent()).resolves.not.toContain("not-a-real-password");

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "audit-report-non-compliant.png") });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, "audit-report-non-compliant-full.png"), fullPage: true });
    expect(requests).toEqual([]);
  });
});

/** An advisory rule whose evidence is a long ARN, as the real pack's policy rules report. */
const longArn =
  "arn:aws:logs:us-east-1:111122223333:log-group:/openemr-aws/clinic-production-east/vpc-flow-logs:log-stream:*";
const arnRule: ResourceRule = {
  ...logRetentionRule,
  id: "test-arn-evidence",
  severity: "low",
  enforcement: "advisory",
  remediation: "Narrow the resource.",
  evaluate: (resource) => ({
    status: "fail",
    message: `policy of ${resource.name}: Resource is ${longArn}`,
    evidence: { "Statement[0].Resource": longArn },
  }),
};

/** The text of an element as laid out: one string per rendered line (the tests have no DOM types). */
function renderedLines(node: any): string[] {
  const range = (globalThis as any).document.createRange();
  const lines: string[] = [];
  let line = "";
  let top: number | undefined;
  for (const child of Array.from<any>(node.childNodes)) {
    if (child.nodeType !== 3) continue;
    const value: string = child.textContent;
    for (let index = 0; index < value.length; index++) {
      range.setStart(child, index);
      range.setEnd(child, index + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      if (top !== undefined && rect.top > top + 2) {
        lines.push(line);
        line = "";
      }
      top = rect.top;
      line += value[index];
    }
  }
  return [...lines, line];
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Where each view's screenshots go: the test's temp dir, kept for a person to look at. */
const shots = mkdtempSync(path.join(tmpdir(), "audit-html-shots-"));

describe("report.html at a glance", () => {
  it("leads with what failed: mandatory failures (red FAIL), then advisory findings (amber ADVISORY)", async () => {
    const justification = "Scratch data is regenerated from the records bucket on demand.";
    const report = await fixtureReport({
      retentionInDays: 30,
      rules: [...testRules, arnRule],
      waivers: [{ rule: "test-bucket-versioned", resource: "scratch", justification }],
    });
    const html = renderHtml(report);
    for (const viewport of [DESKTOP, PHONE]) {
      const { page } = await open(html, `glance-fail-${viewport.width}`, viewport);
      await expect(page.locator("#result").textContent()).resolves.toBe(
        "FAIL: 1 mandatory failure, 3 advisory findings",
      );
      const items = page.locator("#summary li.finding");
      const summary = await items.evaluateAll((nodes) =>
        nodes.map((node) => [
          node.getAttribute("data-rule"),
          node.querySelector(".badge")?.textContent,
          node.querySelector(".badge")?.className,
        ]),
      );
      expect(summary).toEqual([
        ["test-log-retention", "FAIL", "badge status-fail"],
        ["test-bucket-tagged", "ADVISORY", "badge status-advisory"],
        ["test-arn-evidence", "ADVISORY", "badge status-advisory"],
      ]);
      // Red and amber: the two kinds of failure never share a colour.
      const colours = await page
        .locator("#summary .badge")
        .evaluateAll((nodes) => nodes.map((node) => (globalThis as any).getComputedStyle(node).backgroundColor));
      expect(colours[0]).not.toBe(colours[1]);
      // The mandatory failure says why and is in the first screen, without scrolling.
      const first = items.first();
      await expect(first.textContent()).resolves.toContain("retentionInDays is 30, expected >= 365");
      const box = (await first.boundingBox())!;
      expect(box.y + box.height, `first failure at ${viewport.width}px`).toBeLessThanOrEqual(viewport.height);
      // Each finding links to its row in the rule's table.
      const href = (await first.locator("a.result-link").first().getAttribute("href"))!;
      const target = page.locator(`[id="${href.slice(1)}"]`);
      await expect(target.getAttribute("data-rule")).resolves.toBe("test-log-retention");
      await expect(target.getAttribute("data-resource")).resolves.toBe("app");
      // The account id in the ARN is a placeholder, and the page says so.
      await expect(page.locator("#placeholders summary").textContent()).resolves.toContain(
        "Placeholders: 1 value the offline plan made up",
      );
      await expect(page.locator("#placeholders li").allTextContents()).resolves.toEqual([
        "111122223333: AWS account id (known only at deploy time)",
      ]);
      // Plurals.
      await expect(page.locator("body").textContent()).resolves.not.toMatch(/\b1 (rules|results|resources)\b/);
      // ARNs wrap only after ':' or '/', never inside a token (nor after a hyphen).
      const evidence = page.locator('tr[data-rule="test-arn-evidence"] .evidence').first();
      await expect(evidence.textContent()).resolves.toBe(`Statement[0].Resource = "${longArn}"`);
      const pieces = await evidence.evaluate(renderedLines);
      if (viewport === PHONE) expect(pieces.length, pieces.join("|")).toBeGreaterThan(1);
      for (const piece of pieces.slice(0, -1))
        expect(piece, `line break after ${JSON.stringify(piece)}`).toMatch(/[:/,.\s]$/);
      if (viewport === PHONE) {
        const width = await page.evaluate<number>("document.documentElement.scrollWidth");
        expect(width, "no horizontal scroll at 390px").toBeLessThanOrEqual(PHONE.width);
      }
      await page.screenshot({ path: path.join(shots, `fixture-fail-${viewport.width}.png`) });
      await page
        .locator('tr[data-rule="test-arn-evidence"]')
        .first()
        .screenshot({ path: path.join(shots, `fixture-arn-row-${viewport.width}.png`) });
    }
  });

  it("says PASS with the advisory findings of a passing report, and shows no red FAIL anywhere", async () => {
    const report = await fixtureReport({ rules: testRules.filter((rule) => rule.id !== "test-bucket-versioned") });
    expect(report.result).toBe("pass");
    const { page } = await open(renderHtml(report), "glance-pass", PHONE);
    await expect(page.locator("#result").textContent()).resolves.toBe("PASS with 1 advisory finding");
    await expect(page.locator(".status-fail").count()).resolves.toBe(0);
    await expect(page.locator("#summary li.finding .badge").allTextContents()).resolves.toEqual(["ADVISORY"]);
    await expect(page.locator("#summary").textContent()).resolves.toContain("No mandatory failure");
  });

  // The real pack, as `npm run audit` renders it: a failing stack and the passing defaults, at a
  // desktop and a phone width. The screenshots stay in the temp dir for a person to look at.
  it("renders the real pack's failing and passing reports at 1280 and 390 pixels wide", async () => {
    const failing = auditRun(await runOffline(nonCompliantProgram, { stack: "non-compliant" }), {
      rules: allRules,
      waivers: [],
      settings: defaultSettings,
      configFile: null,
    });
    // The defaults, with the repository's waivers, as `npm run audit` audits them.
    const passing = auditRun(await planStack({ stackName: "defaults" }), {
      rules: allRules,
      waivers: loadWaivers(defaultWaiversFile),
      settings: defaultSettings,
      configFile: null,
    });
    expect([failing.result, passing.result]).toEqual(["fail", "pass"]);
    for (const [name, report] of [
      ["fail", failing],
      ["pass", passing],
    ] as const) {
      for (const viewport of [DESKTOP, PHONE]) {
        const { page, requests } = await open(renderHtml(report), `real-${name}-${viewport.width}`, viewport);
        const label = `${name} at ${viewport.width}px`;
        const first = page.locator("#summary li.finding").first();
        const box = (await first.boundingBox())!;
        expect(box.y, label).toBeLessThan(viewport.height);
        await expect(first.locator(".badge").textContent()).resolves.toBe(name === "fail" ? "FAIL" : "ADVISORY");
        const width = await page.evaluate<number>("document.documentElement.scrollWidth");
        expect(width, label).toBeLessThanOrEqual(viewport.width);
        if (name === "pass") await expect(page.locator(".status-fail").count(), label).resolves.toBe(0);
        await page.screenshot({ path: path.join(shots, `real-${name}-${viewport.width}.png`) });
        await page.screenshot({ path: path.join(shots, `real-${name}-${viewport.width}-full.png`), fullPage: true });
        expect(requests).toEqual([]);
      }
    }
    expect(existsSync(path.join(shots, "real-pass-390.png"))).toBe(true);
    console.log(`report.html screenshots: ${shots}`);
  }, 120_000);
});
