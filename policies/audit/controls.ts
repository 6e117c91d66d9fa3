// Names of the HIPAA Security Rule standards and implementation specifications (45 CFR
// 164.308, 164.310, 164.312) that rules cite, as the regulation words them, for reports.
export const controlTitles: Record<string, string> = {
  "164.308(a)(1)(i)": "Security management process",
  "164.308(a)(1)(ii)(A)": "Risk analysis",
  "164.308(a)(1)(ii)(B)": "Risk management",
  "164.308(a)(1)(ii)(C)": "Sanction policy",
  "164.308(a)(1)(ii)(D)": "Information system activity review",
  "164.308(a)(2)": "Assigned security responsibility",
  "164.308(a)(3)(i)": "Workforce security",
  "164.308(a)(3)(ii)(A)": "Authorization and/or supervision",
  "164.308(a)(3)(ii)(B)": "Workforce clearance procedure",
  "164.308(a)(3)(ii)(C)": "Termination procedures",
  "164.308(a)(4)(i)": "Information access management",
  "164.308(a)(4)(ii)(A)": "Isolating health care clearinghouse functions",
  "164.308(a)(4)(ii)(B)": "Access authorization",
  "164.308(a)(4)(ii)(C)": "Access establishment and modification",
  "164.308(a)(5)(i)": "Security awareness and training",
  "164.308(a)(5)(ii)(A)": "Security reminders",
  "164.308(a)(5)(ii)(B)": "Protection from malicious software",
  "164.308(a)(5)(ii)(C)": "Log-in monitoring",
  "164.308(a)(5)(ii)(D)": "Password management",
  "164.308(a)(6)(i)": "Security incident procedures",
  "164.308(a)(6)(ii)": "Response and reporting",
  "164.308(a)(7)(i)": "Contingency plan",
  "164.308(a)(7)(ii)(A)": "Data backup plan",
  "164.308(a)(7)(ii)(B)": "Disaster recovery plan",
  "164.308(a)(7)(ii)(C)": "Emergency mode operation plan",
  "164.308(a)(7)(ii)(D)": "Testing and revision procedures",
  "164.308(a)(7)(ii)(E)": "Applications and data criticality analysis",
  "164.308(a)(8)": "Evaluation",
  "164.310(a)(1)": "Facility access controls",
  "164.310(d)(1)": "Device and media controls",
  "164.310(d)(2)(iii)": "Accountability",
  "164.310(d)(2)(iv)": "Data backup and storage",
  "164.312(a)(1)": "Access control",
  "164.312(a)(2)(i)": "Unique user identification",
  "164.312(a)(2)(ii)": "Emergency access procedure",
  "164.312(a)(2)(iii)": "Automatic logoff",
  "164.312(a)(2)(iv)": "Encryption and decryption",
  "164.312(b)": "Audit controls",
  "164.312(c)(1)": "Integrity",
  "164.312(c)(2)": "Mechanism to authenticate electronic protected health information",
  "164.312(d)": "Person or entity authentication",
  "164.312(e)(1)": "Transmission security",
  "164.312(e)(2)(i)": "Integrity controls",
  "164.312(e)(2)(ii)": "Encryption",
};

/** Orders sections as the regulation does: 164.308 before 164.310, (a)(2) before (a)(10). */
export function compareSections(left: string, right: string): number {
  const key = (section: string) =>
    section
      .split(/[()]+/)
      .filter(Boolean)
      .map((part) => (/^\d+(\.\d+)?$/.test(part) ? part.padStart(8, "0") : part));
  const [a, b] = [key(left), key(right)];
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index] < b[index] ? -1 : 1;
  }
  return a.length - b.length;
}
