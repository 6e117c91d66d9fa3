/**
 * A stand-in for the OpenEMR release tarball, which cannot be downloaded here: the same layout
 * (`openemr-<version>/` with index.php, version.php, interface/, sites/default/{sqlconf.php,documents},
 * meta/health/, apis/ and oauth2/ (routed by .htaccess rewrites, .well-known discovery included),
 * public/themes/, bin/, the setup scripts) and an unattended installer
 * (`contrib/util/installScripts/InstallerAuto.php`) that keeps the real one's contract: it needs
 * OPENEMR_ENABLE_INSTALLER_AUTO=1, refuses root, takes key=value arguments, with
 * `no_root_db_access=1` connects as the app user only, uses TLS when
 * `sites/<site>/documents/certificates/mysql-ca` exists, and on failure prints ERROR and still
 * exits 0. Like Installer::quick_install() it loads OpenEMR's real schema (`sql/database.sql`, the
 * copy in ../shared/openemr), writes sqlconf.php with `$config = 1`, sets the version row, and
 * creates the administrator as the real installer does: `groups`, `users`, `users_secure` with a
 * bcrypt hash, and the phpGACL rows that make it a member of the "admin" group with its ACL.
 *
 * `buildRelease(dir, { version, installerFails })` writes `openemr-<version>.tar.gz` (and its
 * `.sha256`, as GitHub publishes it) into `dir` and returns `{ tarball, sha256 }`.
 * `installerFails` makes the installer print ERROR part-way, like a real install that dies:
 * `"schema"` after creating some tables, `"first-user"` after writing `$config = 1` to
 * sqlconf.php but before creating the administrator (the real installer's order allows both).
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join, resolve } from "path";

// OpenEMR's own install schema (see ../shared/openemr/README.md), loaded by the stand-in installer.
const SHARED_OPENEMR = process.env.OPENEMR_SHARED_DIR ?? resolve(__dirname, "../../../../shared/openemr");
// `v_database` of that schema's commit.
const SCHEMA_VERSION = 538;

// The administrator's access controls, as Installer::install_gacl() grants them to the "admin"
// group: every ACO section and object of the administrators' ACL.
const ADMIN_ACOS: Record<string, string[]> = {
  acct: ["bill", "disc", "eob", "rep", "rep_a"],
  admin: [
    "calendar",
    "database",
    "forms",
    "practice",
    "superbill",
    "users",
    "batchcom",
    "language",
    "super",
    "drugs",
  ].concat(["acl", "multipledb", "menu", "manage_modules"]),
  encounters: ["auth_a", "auth", "coding_a", "coding", "notes_a", "notes", "date_a", "relaxed"],
  inventory: ["lots", "sales", "purchases", "transfers", "adjustments", "consumption", "destruction", "reporting"],
  lists: ["default", "state", "country", "language", "ethrace"],
  patients: ["appt", "demo", "med", "trans", "docs", "notes", "sign", "reminder", "alert", "disclosure", "rx"].concat([
    "amendment",
    "lab",
    "docs_rm",
    "pat_rep",
  ]),
  sensitivities: ["normal", "high"],
  nationnotes: ["nn_configure"],
  patientportal: ["portal"],
  menus: ["modle"],
  groups: ["gadd", "gcalendar", "glog", "gdlog", "gm"],
};

// The ARO groups Installer::install_gacl() creates under "users" (value => name).
const ARO_GROUPS: Record<string, string> = {
  admin: "Administrators",
  clin: "Clinicians",
  doc: "Physicians",
  front: "Front Office",
  back: "Accounting",
  breakglass: "Emergency Login",
};

const INSTALLER_TEMPLATE =
  String.raw`<?php
// Stand-in for OpenEMR's InstallerAuto.php and Installer::quick_install()
// (see tests/host/lib/openemr-release.ts), in the real one's order: load sql/database.sql, write
// sqlconf.php, then the version, globals, the first user and the access controls.
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
    'iuname' => 'Administrator', 'iufname' => 'Administrator', 'igroup' => 'Default',
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
$top = __DIR__ . '/../../..';
$siteDir = "$top/sites/" . $args['site'];
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
function sql($query)
{
    global $db;
    $result = $db->query($query);
    if ($result === false) {
        echo "ERROR: unable to execute SQL: " . $db->error . "\n";
        exit(0);
    }
    return $result;
}
function failing_at($stage)
{
    return trim((string) @file_get_contents(__DIR__ . '/FAIL_AT')) === $stage;
}
function esc($value)
{
    global $db;
    return $db->real_escape_string($value);
}
sql("SET sql_mode = ''");
sql("SET NAMES 'utf8mb4'");

// Installer::load_file(): comment lines dropped, a statement ends with ';' at the end of a line,
// all of it in one transaction (DDL still commits table by table).
$fd = fopen("$top/sql/database.sql", 'r');
sql("SET autocommit=0");
sql("START TRANSACTION");
$query = '';
$statements = 0;
while (($line = fgets($fd)) !== false) {
    $line = rtrim($line);
    if ($line === '' || substr($line, 0, 2) === '--' || $line[0] === '#') {
        continue;
    }
    $query .= $line;
    if (substr($query, -1) === ';') {
        sql(rtrim($query, ';'));
        $query = '';
        if (++$statements === 200 && failing_at('schema')) {
            echo "ERROR: loading the database schema failed\n";
            exit(0);
        }
    }
}
sql("COMMIT");
sql("SET autocommit=1");

$conf = "<?php\n//  OpenEMR\n//  MySQL Config\n\n" .
    "global \$disable_utf8_flag;\n\$disable_utf8_flag = false;\n\n" .
    "\$host\t= '{$args['server']}';\n\$port\t= '{$args['port']}';\n" .
    "\$login\t= '{$args['login']}';\n\$pass\t= '{$args['pass']}';\n" .
    "\$dbase\t= '{$args['dbname']}';\n\$db_encoding\t= 'utf8mb4';\n" .
    "\n\$sqlconf = array();\nglobal \$sqlconf;\n\$sqlconf[\"host\"]= \$host;\n\$sqlconf[\"port\"] = \$port;\n" .
    "\$sqlconf[\"login\"] = \$login;\n\$sqlconf[\"pass\"] = \$pass;\n\$sqlconf[\"dbase\"] = \$dbase;\n" .
    "\$sqlconf[\"db_encoding\"] = \$db_encoding;\n\n//////DO NOT TOUCH THIS///\n\$config = 1; /////////////\n?>\n";
if (file_put_contents("$siteDir/sqlconf.php", $conf) === false) {
    echo "ERROR: cannot write sqlconf.php\n";
    exit(0);
}

include "$top/version.php";
sql("UPDATE version SET v_major = '" . esc($v_major) . "', v_minor = '" . esc($v_minor) .` +
  String.raw` "', v_patch = '" . esc($v_patch) . "', v_realpatch = '" . esc($v_realpatch) .` +
  String.raw` "', v_tag = '" . esc($v_tag) . "', v_database = '" . esc($v_database) .` +
  String.raw` "', v_acl = '" . esc($v_acl) . "'");

// Installer::insert_globals() writes every global's default from globals.inc.php; a few here.
foreach (['timeout' => '7200', 'secure_password' => '0', 'gbl_minimum_password_length' => '9'] as $name => $value) {
    sql("INSERT INTO globals (gl_name, gl_index, gl_value) VALUES ('$name', 0, '$value')");
}

// Installer::add_initial_user()
if (failing_at('first-user')) {
    echo "ERROR. Unable to add initial user\n";
    exit(0);
}
sql("INSERT INTO ` +
  "`groups`" +
  String.raw` (id, name, user) VALUES (1,'" . esc($args['igroup']) . "','" . esc($args['iuser']) . "')");
sql("INSERT INTO users (id, username, password, authorized, lname, fname, facility_id, calendar, cal_ui)` +
  String.raw` VALUES (1,'" . esc($args['iuser']) . "','NoLongerUsed',1,'" . esc($args['iuname']) .` +
  String.raw` "','" . esc($args['iufname']) . "',3,1,3)");
$hash = password_hash($args['iuserpass'], PASSWORD_DEFAULT);
sql("INSERT INTO users_secure (id, username, password, last_update_password) VALUES (1,'" .` +
  String.raw` esc($args['iuser']) . "','" . esc($hash) . "',NOW())");

// Installer::install_gacl() through phpGACL's API: ids from the *_seq tables, groups as a
// nested set under "users", the administrator an ARO in the "admin" group, one ACL for it.
function next_id($table)
{
    sql("UPDATE $table SET id = LAST_INSERT_ID(id + 1)");
    return (int) sql("SELECT LAST_INSERT_ID()")->fetch_row()[0];
}
function add_group($value, $name, $parent)
{
    $id = next_id('gacl_aro_groups_id_seq');
    if ($parent === 0) {
        sql("INSERT INTO gacl_aro_groups (id, parent_id, lft, rgt, name, value)` +
  String.raw` VALUES ($id, 0, 1, 2, '$name', '$value')");
        return $id;
    }
    $right = (int) sql("SELECT rgt FROM gacl_aro_groups WHERE id = $parent")->fetch_row()[0];
    sql("UPDATE gacl_aro_groups SET rgt = rgt + 2 WHERE rgt >= $right");
    sql("UPDATE gacl_aro_groups SET lft = lft + 2 WHERE lft > $right");
    sql("INSERT INTO gacl_aro_groups (id, parent_id, lft, rgt, name, value)` +
  String.raw` VALUES ($id, $parent, $right, $right + 1, '$name', '$value')");
    return $id;
}
$acos = json_decode('ACOS_JSON', true);
foreach (array_keys($acos) as $section) {
    sql("INSERT INTO gacl_aco_sections (id, value, order_value, name) VALUES (" . next_id('gacl_aco_sections_seq') .` +
  String.raw` ", '$section', 10, '$section')");
    foreach ($acos[$section] as $value) {
        sql("INSERT INTO gacl_aco (id, section_value, value, order_value, name) VALUES (" .` +
  String.raw` next_id('gacl_aco_seq') . ", '$section', '$value', 10, '$value')");
    }
}
$users = add_group('users', 'OpenEMR Users', 0);
$groups = [];
foreach (json_decode('ARO_GROUPS_JSON', true) as $value => $name) {
    $groups[$value] = add_group($value, $name, $users);
}
sql("INSERT INTO gacl_aro_sections (id, value, order_value, name) VALUES (" . next_id('gacl_aro_sections_seq') .` +
  String.raw` ", 'users', 10, 'Users')");
$aro = next_id('gacl_aro_seq');
sql("INSERT INTO gacl_aro (id, section_value, value, order_value, name) VALUES ($aro, 'users', '" .` +
  String.raw` esc($args['iuser']) . "', 10, '" . esc($args['iuname']) . "')");
sql("INSERT INTO gacl_groups_aro_map (group_id, aro_id) VALUES ({$groups['admin']}, $aro)");
$acl = next_id('gacl_acl_seq');
sql("INSERT INTO gacl_acl (id, section_value, allow, enabled, return_value, note, updated_date)` +
  String.raw` VALUES ($acl, 'system', 1, 1, 'write', 'Administrators can do anything', " . time() . ")");
foreach ($acos as $section => $values) {
    foreach ($values as $value) {
        sql("INSERT INTO gacl_aco_map (acl_id, section_value, value) VALUES ($acl, '$section', '$value')");
    }
}
sql("INSERT INTO gacl_aro_groups_map (acl_id, group_id) VALUES ($acl, {$groups['admin']})");
echo "OpenEMR installed for site {$args['site']}\n";
`;
const INSTALLER = INSTALLER_TEMPLATE.replace("ACOS_JSON", JSON.stringify(ADMIN_ACOS)).replace(
  "ARO_GROUPS_JSON",
  JSON.stringify(ARO_GROUPS),
);

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
  installerFails?: "schema" | "first-user";
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
    "version.php":
      `<?php\n$v_major = '${major}';\n$v_minor = '${minor}';\n$v_patch = '${patch}';\n$v_realpatch = '0';\n` +
      `$v_tag = '';\n$v_database = ${SCHEMA_VERSION};\n$v_acl = 12;\n`,
    "sql/database.sql": readFileSync(join(SHARED_OPENEMR, "database.sql"), "utf8"),
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
  if (options.installerFails) files["contrib/util/installScripts/FAIL_AT"] = `${options.installerFails}\n`;
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
