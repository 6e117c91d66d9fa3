/**
 * A stand-in for the OpenEMR release tarball, which cannot be downloaded here: the same layout
 * (`openemr-<version>/` with index.php, version.php, interface/, sites/default/{sqlconf.php,documents},
 * meta/health/, apis/ and oauth2/ (routed by .htaccess rewrites, .well-known discovery included),
 * public/themes/, bin/, the setup scripts) and an unattended installer
 * (`contrib/util/installScripts/InstallerAuto.php`) that keeps the real one's contract: it needs
 * OPENEMR_ENABLE_INSTALLER_AUTO=1, refuses root, takes key=value arguments, with
 * `no_root_db_access=1` connects as the app user only, uses TLS when
 * `sites/<site>/documents/certificates/mysql-ca` exists, creates tables, writes `$config = 1` to
 * sqlconf.php, and on failure prints ERROR and still exits 0.
 *
 * `buildRelease(dir, { version, installerFails })` writes `openemr-<version>.tar.gz` (and its
 * `.sha256`, as GitHub publishes it) into `dir` and returns `{ tarball, sha256 }`.
 * `installerFails` makes the installer print ERROR after creating some tables, like a real
 * install that dies half-way.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";

const INSTALLER =
  String.raw`<?php
// Stand-in for OpenEMR's InstallerAuto.php (see tests/host/lib/openemr-release.ts).
if (getenv('OPENEMR_ENABLE_INSTALLER_AUTO') !== '1') {
    echo "ERROR: the unattended installer is disabled (set OPENEMR_ENABLE_INSTALLER_AUTO=1)\n";
    exit(0);
}
if (posix_getuid() === 0) {
    echo "ERROR: do not run the installer as root\n";
    exit(0);
}
$args = ['server' => 'localhost', 'port' => '3306', 'login' => 'openemr', 'pass' => 'openemr',
    'dbname' => 'openemr', 'site' => 'default', 'iuser' => 'admin', 'iuserpass' => 'pass',
    'collate' => 'utf8mb4_general_ci', 'no_root_db_access' => '0'];
foreach (array_slice($argv, 1) as $arg) {
    $parts = explode('=', $arg);
    if (count($parts) === 2) {
        $args[$parts[0]] = $parts[1];
    } elseif (count($parts) > 2) {
        echo "ERROR: cannot parse argument {$parts[0]}: values must not contain '='\n";
        exit(0);
    }
}
foreach (['dbname', 'collate', 'site'] as $key) {
    if (!preg_match('/^[A-Za-z0-9_-]+$/', $args[$key])) {
        echo "ERROR: $key must match [A-Za-z0-9_-]\n";
        exit(0);
    }
}
if ($args['no_root_db_access'] !== '1') {
    echo "ERROR: root database credentials are required without no_root_db_access=1\n";
    exit(0);
}
$siteDir = __DIR__ . '/../../../sites/' . $args['site'];
$ca = "$siteDir/documents/certificates/mysql-ca";
mysqli_report(MYSQLI_REPORT_OFF);
$db = mysqli_init();
$flags = 0;
if (file_exists($ca)) {
    $db->ssl_set(null, null, $ca, null, null);
    $db->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
    $flags = MYSQLI_CLIENT_SSL;
}
if (!@$db->real_connect($args['server'], $args['login'], $args['pass'], $args['dbname'],` +
  String.raw` (int) $args['port'], null, $flags)) {
    echo "ERROR: unable to connect to the database: " . mysqli_connect_error() . "\n";
    exit(0);
}
$existing = $db->query("SHOW TABLES")->num_rows;
if ($existing > 0) {
    echo "ERROR: database {$args['dbname']} is not empty ($existing tables)\n";
    exit(0);
}
$statements = [
    "CREATE TABLE globals (gl_name varchar(63) NOT NULL, gl_index int NOT NULL DEFAULT 0,` +
  String.raw` gl_value varchar(255) NOT NULL DEFAULT '', PRIMARY KEY (gl_name, gl_index))",
    "CREATE TABLE users (id bigint AUTO_INCREMENT PRIMARY KEY, username varchar(255),` +
  String.raw` fname varchar(255), password varchar(255))",
    "CREATE TABLE version (v_major int, v_minor int, v_patch int, v_database int)",
    "CREATE TABLE patient_data (id bigint AUTO_INCREMENT PRIMARY KEY, fname varchar(255),` +
  String.raw` lname varchar(255), DOB date)",
    "CREATE TABLE ` +
  "`keys`" +
  String.raw` (id bigint AUTO_INCREMENT PRIMARY KEY, name varchar(20), value text)",
    "INSERT INTO globals (gl_name, gl_index, gl_value) VALUES ('timeout', 0, '7200'), ('secure_password', 0, '0')",
];
foreach ($statements as $i => $sql) {
    if (!$db->query($sql)) {
        echo "ERROR: " . $db->error . "\n";
        exit(0);
    }
    if ($i === 2 && file_exists(__DIR__ . '/FAIL_HALFWAY')) {
        echo "ERROR: loading the database schema failed\n";
        exit(0);
    }
}
$stmt = $db->prepare("INSERT INTO users (username, fname, password) VALUES (?, 'Administrator', ?)");
$hash = password_hash($args['iuserpass'], PASSWORD_DEFAULT);
$stmt->bind_param('ss', $args['iuser'], $hash);
$stmt->execute();
[$major, $minor, $patch] = array_map('intval', explode('.',` +
  String.raw` trim(file_get_contents(__DIR__ . '/../../../version.txt'))));
$db->query("INSERT INTO version VALUES ($major, $minor, $patch, 1)");
$conf = "<?php\n" .
    '$host = ' . var_export($args['server'], true) . ";\n" .
    '$port = ' . var_export($args['port'], true) . ";\n" .
    '$login = ' . var_export($args['login'], true) . ";\n" .
    '$pass = ' . var_export($args['pass'], true) . ";\n" .
    '$dbase = ' . var_export($args['dbname'], true) . ";\n" .
    '$db_encoding = ' . "'utf8mb4';\n" .
    '$config = 1;' . "\n";
if (file_put_contents("$siteDir/sqlconf.php", $conf) === false) {
    echo "ERROR: cannot write sqlconf.php\n";
    exit(0);
}
echo "OpenEMR installed for site {$args['site']}\n";
`;

const HEALTH =
  String.raw`<?php
// Stand-in for OpenEMR's /meta/health endpoints: always HTTP 200, status in the JSON.
header('Content-Type: application/json');
$probe = $_GET['probe'] ?? '';
if ($probe === 'livez') {
    echo json_encode(['status' => 'alive']);
    exit;
}
require __DIR__ . '/../../sites/default/sqlconf.php';
if (empty($config)) {
    echo json_encode(['status' => 'setup_required']);
    exit;
}
$ca = __DIR__ . '/../../sites/default/documents/certificates/mysql-ca';
mysqli_report(MYSQLI_REPORT_OFF);
$db = mysqli_init();
$flags = 0;
if (file_exists($ca)) {
    $db->ssl_set(null, null, $ca, null, null);
    $flags = MYSQLI_CLIENT_SSL;
}
$connected = @$db->real_connect($host, $login, $pass, $dbase, (int) $port, null, $flags);
$cipher = $connected ? ($db->query("SHOW STATUS LIKE 'Ssl_cipher'")->fetch_row()[1] ?? '') : '';
echo json_encode(['status' => $connected ? 'ready' : 'not_ready',` +
  String.raw` 'checks' => ['database' => (bool) $connected, 'database_tls_cipher' => $cipher]]);
`;

// Stand-ins for OpenEMR's API and OAuth2 front controllers, reached through the .htaccess rewrites
// as in the real release, including the discovery documents under .well-known (SMART on FHIR's
// smart-configuration, OpenID Connect's openid-configuration).
const API_DISPATCH = String.raw`<?php
header('Content-Type: application/json');
$route = $_GET['_REWRITE_COMMAND'] ?? '';
$body = ['route' => $route];
if (preg_match('#^([A-Za-z0-9_-]+)/fhir/\.well-known/smart-configuration$#', $route, $match)) {
    $oauth = 'https://' . $_SERVER['HTTP_HOST'] . '/oauth2/' . $match[1];
    $body += ['authorization_endpoint' => "$oauth/authorize", 'token_endpoint' => "$oauth/token"];
}
echo json_encode($body);
`;

const OAUTH2_AUTHORIZE =
  String.raw`<?php
$route = $_GET['_REWRITE_COMMAND'] ?? '';
if (preg_match('#^([A-Za-z0-9_-]+)/\.well-known/openid-configuration$#', $route, $match)) {
    header('Content-Type: application/json');
    $issuer = 'https://' . $_SERVER['HTTP_HOST'] . '/oauth2/' . $match[1];
    echo json_encode(['issuer' => $issuer, 'authorization_endpoint' => "$issuer/authorize",` +
  String.raw` 'token_endpoint' => "$issuer/token", 'jwks_uri' => "$issuer/jwk"]);
    exit;
}
echo 'oauth2';
`;

// A static asset, long enough to be worth compressing.
const STYLESHEET = Array.from(
  { length: 40 },
  (_, i) =>
    `.oe-stand-in-${i} { margin: ${i}px; padding: ${i}px; color: #${(i * 4099).toString(16).padStart(6, "0")}; }`,
).join("\n");

export interface ReleaseOptions {
  version: string;
  installerFails?: boolean;
}

export interface Release {
  tarball: string;
  sha256: string;
}

export function buildRelease(dir: string, options: ReleaseOptions): Release {
  const work = mkdtempSync(join(tmpdir(), "openemr-release-"));
  const top = join(work, `openemr-${options.version}`);
  const [major, minor, patch] = options.version.split(".");
  const files: Record<string, string> = {
    "index.php": "<?php\nheader('Location: interface/login/login.php');\n",
    "version.txt": `${options.version}\n`,
    "version.php": `<?php\n$v_major = '${major}';\n$v_minor = '${minor}';\n$v_patch = '${patch}';\n$v_tag = '';\n`,
    "interface/login/login.php":
      "<?php\necho '<!DOCTYPE html><title>OpenEMR Login</title><form method=\"post\"></form>';\n",
    "meta/health/.htaccess": "RewriteEngine On\nRewriteRule ^(livez|readyz)$ index.php?probe=$1 [L,QSA]\n",
    "meta/health/index.php": HEALTH,
    "apis/.htaccess": "RewriteEngine On\nRewriteRule ^(.*)$ dispatch.php?_REWRITE_COMMAND=$1 [L,QSA]\n",
    "apis/dispatch.php": API_DISPATCH,
    "oauth2/.htaccess": "RewriteEngine On\nRewriteRule ^(.*)$ authorize.php?_REWRITE_COMMAND=$1 [L,QSA]\n",
    "oauth2/authorize.php": OAUTH2_AUTHORIZE,
    "public/themes/style_light.css": STYLESHEET + "\n",
    "bin/console": '#!/usr/bin/env php\n<?php\necho "console\\n";\n',
    ".gitignore": "vendor/\n",
    "contrib/util/installScripts/InstallerAuto.php": INSTALLER,
    "sites/default/sqlconf.php":
      "<?php\n$host = 'localhost';\n$port = '3306';\n$login = '';\n$pass = '';\n$dbase = '';\n" +
      "$config = 0; /////WILL BE CHANGED BY INSTALL\n",
    "sites/default/documents/edi/README.txt": "edi\n",
    "sites/default/documents/logs_and_misc/methods/README.txt": "keys\n",
    ...Object.fromEntries(
      ["admin.php", "acl_upgrade.php", "setup.php", "sql_patch.php", "sql_upgrade.php", "ippf_upgrade.php"].map(
        (name) => [name, "<?php\necho 'setup';\n"],
      ),
    ),
  };
  if (options.installerFails) files["contrib/util/installScripts/FAIL_HALFWAY"] = "\n";
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(top, path)), { recursive: true });
    writeFileSync(join(top, path), text);
  }
  // As in the real tarball: the installer's targets ship world-writable.
  chmodSync(join(top, "sites/default/sqlconf.php"), 0o666);
  chmodSync(join(top, "sites/default/documents"), 0o777);

  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `openemr-${options.version}.tar.gz`);
  execFileSync("tar", ["-C", work, "--owner=0", "--group=0", "-czf", tarball, `openemr-${options.version}`]);
  rmSync(work, { recursive: true, force: true });
  const sha256 = createHash("sha256").update(readFileSync(tarball)).digest("hex");
  writeFileSync(`${tarball}.sha256`, `${sha256}  openemr-${options.version}.tar.gz\n`);
  return { tarball, sha256 };
}
