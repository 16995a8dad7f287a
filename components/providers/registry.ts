// Every dynamic provider of the program by name: what `flux-multi-tenancy-providers` gives the dynamic-provider host
// (see reference.ts). A name here is in the state of every resource of that provider: rename none.
import { clusterProbeProvider } from "./clusterProbe";
import { fluxInstallProvider, fluxReadyProvider, fluxSyncProvider } from "./flux";
import { ageKeyProvider, tokenProvider } from "./generatedSecrets";
import { gitCommitProvider } from "./gitCommit";
import { gitPushProvider } from "./gitPush";
import { githubDefaultBranchProvider } from "./githubDefaultBranch";
import { githubDeployKeyProvider } from "./githubDeployKey";
import { githubRepositoryProvider } from "./githubRepository";
import { githubWebhookProvider } from "./githubWebhook";
import { kindClusterProvider } from "./kindCluster";
import { loaded } from "./reference";
import { sshKeyProvider } from "./sshKey";
import { tenantGoodbyeProvider } from "./tenantGoodbye";
import { tenantSeedProvider } from "./tenantSeed";

export const providers = {
  ageKey: loaded(ageKeyProvider),
  clusterProbe: loaded(clusterProbeProvider),
  fluxInstall: loaded(fluxInstallProvider),
  fluxReady: loaded(fluxReadyProvider),
  fluxSync: loaded(fluxSyncProvider),
  gitCommit: loaded(gitCommitProvider),
  gitPush: loaded(gitPushProvider),
  githubDefaultBranch: loaded(githubDefaultBranchProvider),
  githubDeployKey: loaded(githubDeployKeyProvider),
  githubRepository: loaded(githubRepositoryProvider),
  githubWebhook: loaded(githubWebhookProvider),
  kindCluster: loaded(kindClusterProvider),
  sshKey: loaded(sshKeyProvider),
  tenantGoodbye: loaded(tenantGoodbyeProvider),
  tenantSeed: loaded(tenantSeedProvider),
  token: loaded(tokenProvider),
};
