{
  description = "olares-cli-ts: the Olares CLI identity foundation (profiles, login, token storage, transparent refresh)";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    flake-utils.url = "github:numtide/flake-utils";
  };

  outputs = { self, nixpkgs, flake-utils }:
    flake-utils.lib.eachDefaultSystem (system:
      let
        pkgs = import nixpkgs { inherit system; };
        nodejs = pkgs.nodejs_20;
      in
      {
        # `nix build`: dependencies come from package-lock.json through importNpmLock,
        # so there is no hand-kept npmDepsHash to update when the lock file changes.
        packages.default = pkgs.buildNpmPackage {
          pname = "olares-cli";
          version = "0.1.0";
          src = ./.;
          inherit nodejs;
          npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
          npmConfigHook = pkgs.importNpmLock.npmConfigHook;
          # The config hook installs with --ignore-scripts, so `prepare` does not run there:
          # `npm run build` (esbuild bundle + V8 code cache for this Node) makes dist/.
          npmBuildScript = "build";
          # The tests spawn a loopback server and real processes; they run in CI (.ci/run).
          doCheck = false;
          meta = {
            description = "Olares CLI identity foundation";
            mainProgram = "olares-cli";
          };
        };

        apps.default = flake-utils.lib.mkApp { drv = self.packages.${system}.default; name = "olares-cli"; };

        # `nix develop`: Node 20 with npm, plus the tools the tests and benchmarks use.
        devShells.default = pkgs.mkShell {
          packages = [ nodejs pkgs.openssl pkgs.tmux pkgs.util-linux pkgs.hyperfine pkgs.git ];
          shellHook = ''
            echo "olares-cli-ts dev shell: node $(node --version). Run: npm ci && npm test"
          '';
        };
      });
}
