export async function run(_args: string[]): Promise<number> {
  process.stdout.write('demo: not yet\n');
  return 0;
}
