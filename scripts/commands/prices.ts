// `openemr-ops prices --refresh --region R`: refreshes config/prices/<R>.json from the AWS Price
// List API (GetProducts; the API answers in us-east-1 for every region). Each price the API can
// be asked for is replaced with the API's on-demand USD price, dated today and sourced to its
// SKU; the others are kept as they were and listed, so nothing changes silently.
import { existsSync, readFileSync, writeFileSync } from "fs";
import { GetProductsCommand, PricingClient, type Filter } from "@aws-sdk/client-pricing";
import { priceFile, type PriceTable } from "../../infra/cost/tables";
import { awsCall, EXIT_OK, OpsError } from "../lib/errors";
import type { Io } from "../lib/io";

interface Query {
  serviceCode: string;
  filters: Record<string, string>;
  /** The price dimension's unit as the API spells it (Hrs, GB-Mo, GB, LCU-Hrs). */
  unit: string;
}

/** How each price key is asked of the Price List API; keys without a query are kept. */
export function queryFor(key: string, region: string): Query | undefined {
  const regionCode = region;
  let match = /^ec2\.instance\.(.+)$/.exec(key);
  if (match)
    return {
      serviceCode: "AmazonEC2",
      unit: "Hrs",
      filters: {
        regionCode,
        instanceType: match[1],
        operatingSystem: "Linux",
        tenancy: "Shared",
        preInstalledSw: "NA",
        capacitystatus: "Used",
        licenseModel: "No License required",
      },
    };
  match = /^rds\.mysql\.(db\..+)\.(singleAz|multiAz)$/.exec(key);
  if (match)
    return {
      serviceCode: "AmazonRDS",
      unit: "Hrs",
      filters: {
        regionCode,
        instanceType: match[1],
        databaseEngine: "MySQL",
        deploymentOption: match[2] === "multiAz" ? "Multi-AZ" : "Single-AZ",
      },
    };
  const fixed: Record<string, Query> = {
    "ebs.gp3.storage": {
      serviceCode: "AmazonEC2",
      unit: "GB-Mo",
      filters: { regionCode, productFamily: "Storage", volumeApiName: "gp3" },
    },
    "vpc.natGateway.hour": {
      serviceCode: "AmazonEC2",
      unit: "Hrs",
      filters: { regionCode, productFamily: "NAT Gateway" },
    },
    "vpc.natGateway.gb": {
      serviceCode: "AmazonEC2",
      unit: "GB",
      filters: { regionCode, productFamily: "NAT Gateway" },
    },
    "elb.alb.hour": {
      serviceCode: "AWSELB",
      unit: "Hrs",
      filters: { regionCode, productFamily: "Load Balancer-Application" },
    },
    "elb.alb.lcu": {
      serviceCode: "AWSELB",
      unit: "LCU-Hrs",
      filters: { regionCode, productFamily: "Load Balancer-Application" },
    },
  };
  return fixed[key];
}

interface PriceListEntry {
  product: { sku: string; attributes: Record<string, string> };
  terms: {
    OnDemand?: Record<string, { priceDimensions: Record<string, { unit: string; pricePerUnit: { USD?: string } }> }>;
  };
}

/** The on-demand USD price per `unit` in GetProducts' answer: the first non-zero one. */
export function onDemandPrice(entries: string[], unit: string): { usd: number; sku: string } | undefined {
  for (const text of entries) {
    const entry = JSON.parse(text) as PriceListEntry;
    for (const term of Object.values(entry.terms.OnDemand ?? {})) {
      for (const dimension of Object.values(term.priceDimensions)) {
        const usd = Number(dimension.pricePerUnit.USD);
        if (dimension.unit === unit && usd > 0) return { usd, sku: entry.product.sku };
      }
    }
  }
  return undefined;
}

async function getProducts(client: PricingClient, query: Query): Promise<string[]> {
  const filters: Filter[] = Object.entries(query.filters).map(([Field, Value]) => ({
    Type: "TERM_MATCH",
    Field,
    Value,
  }));
  const entries: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await awsCall(`Price List GetProducts (${query.serviceCode})`, () =>
      client.send(
        new GetProductsCommand({ ServiceCode: query.serviceCode, Filters: filters, NextToken, MaxResults: 100 }),
      ),
    );
    entries.push(...(page.PriceList ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return entries;
}

export interface PricesOptions {
  refresh?: boolean;
  region: string;
  /** Where to write (default config/prices/<region>.json). */
  file?: string;
  json?: boolean;
  today?: string;
}

export async function prices(io: Io, options: PricesOptions): Promise<number> {
  if (!options.refresh) throw new OpsError("prices: nothing to do; pass --refresh to read the AWS Price List API");
  const file = options.file ?? priceFile(options.region);
  // A new region starts from us-east-1's keys: the same prices are asked for.
  const template = existsSync(file) ? file : priceFile("us-east-1");
  const table = JSON.parse(readFileSync(template, "utf8")) as PriceTable;
  table.region = options.region;
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const client = new PricingClient({ region: "us-east-1", maxAttempts: 6 });
  const refreshed: string[] = [];
  const kept: string[] = [];
  for (const [key, price] of Object.entries(table.prices)) {
    const query = queryFor(key, options.region);
    const found = query ? onDemandPrice(await getProducts(client, query), query.unit) : undefined;
    if (!query || !found) {
      kept.push(key);
      if (template !== file) price.confirmed = false;
      continue;
    }
    table.prices[key] = {
      ...price,
      usd: found.usd,
      read: today,
      source: `AWS Price List API GetProducts (${query.serviceCode}, SKU ${found.sku})`,
      confirmed: true,
    };
    refreshed.push(key);
    io.err(`prices: ${key} = $${found.usd} per ${price.unit}`);
  }
  writeFileSync(file, `${JSON.stringify(table, null, 2)}\n`);
  if (options.json)
    io.out(JSON.stringify({ command: "prices", region: options.region, file, refreshed, kept }, null, 2));
  else {
    io.out(
      `${file}: ${refreshed.length} prices refreshed from the AWS Price List API, ${kept.length} kept as they were`,
    );
    if (kept.length) io.out(`kept (no Price List query yet, or no answer): ${kept.join(", ")}`);
  }
  return EXIT_OK;
}
