#!/nix/store/4c6ab511900f6fb50e6fbd1f849780ea-bash-5.2/bin/bash
/nix/store/d72bf4539514b0d6be759f4bd151971c-mailutils-3.17/bin/mail -s 'zfs-gatekeeper: denied commands on optinix' root