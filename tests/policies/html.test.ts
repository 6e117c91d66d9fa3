import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import * as aws from "@pulumi/aws";
import { runOffline } from "../../infra/offline/run";
import { auditRun } from "../../policies/audit";
import { renderHtml } from "../../policies/audit/html";
import { allRules } from "../../policies/rules";
import type { ResourceRule } from "../../policies/rules/types";
import { defaultSettings } from "../../policies/settings";
import { fixtureReport, logRetentionRule } from "./audit-fixtures";

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
async function open(html: string, name: string): Promise<{ page: Page; requests: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), "audit-html-"));
  const file = path.join(dir, `${name}.html`);
  writeFileSync(file, html);
  const page = await browser.newPage();
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

    await expect(page.locator("#result").textContent()).resolves.toBe("FAIL: 2 mandatory failures");
    await expect(page.locator("header").textContent()).resolves.toContain("Rule catalog: docs/rules.md");
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

    await expect(page.locator("#result").textContent()).resolves.toMatch(/^FAIL: \d+ mandatory failures$/);
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
