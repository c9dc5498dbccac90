export async function run(_args: string[]): Promise<number> {
  process.stdout.write('fplay: not yet\n');
  return 0;
}
