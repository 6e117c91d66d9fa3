// Apt sources as Debian's cloud images (the AMI) write them: deb822 stanzas through mirror
// lists, the security archive among them. debootstrap leaves only "trixie main", which the
// bootstrap refuses (no security updates): a test root that stands for an EC2 host gets these.
import type { DebianRoot } from "./debian-root";

export function useCloudImageAptSources(root: DebianRoot): void {
  root.writeFile("/etc/apt/sources.list", "");
  root.writeFile("/etc/apt/mirrors/debian.list", "https://deb.debian.org/debian\n");
  root.writeFile("/etc/apt/mirrors/debian-security.list", "https://deb.debian.org/debian-security\n");
  const stanza = (mirror: string, suites: string) =>
    `Types: deb\nURIs: mirror+file:///etc/apt/mirrors/${mirror}.list\nSuites: ${suites}\nComponents: main\n` +
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n";
  root.writeFile(
    "/etc/apt/sources.list.d/debian.sources",
    stanza("debian", "trixie trixie-updates") + "\n" + stanza("debian-security", "trixie-security"),
  );
}
