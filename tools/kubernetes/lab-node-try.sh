#!/usr/bin/env bash
# Experiment (not the deployment path): turn one running lab node container
# into a one-node kubeadm cluster, the way docs/kubernetes-lab-findings.md
# describes, to check that Kubernetes runs in the lab's nodes.
#
#   tools/kubernetes/lab-node-try.sh NODE_CONTAINER [VERSION]
#
# CGROUP_MODE=cgroupfs (default): the node shares the host's cgroup namespace
#   (as the lab role starts nodes today); kubelet and runc use the cgroupfs
#   driver under <node cgroup>/kubelet.
# CGROUP_MODE=systemd: the node has a private cgroup namespace (docker run
#   --cgroupns private, cgroup mounts remounted rw before /sbin/init); kubelet
#   and runc use the systemd driver, as kind does.
# JOIN_FROM=<control-plane node container>: join that cluster as a worker
#   (kubeadm join with a JoinConfiguration) instead of kubeadm init; set
#   NODE_POD_CIDR to the podCIDR the controller-manager will allocate to it
#   (10.244.<n>.0/24 for the n-th node) and static pod routes are added both ways.
# CNI plugins: the Go-built ones of tools/kubernetes/build-cni.sh when present
#   (CNI_VERSION), else Debian's containernetworking-plugins (1.1.1).
#
# Needs: tools/kubernetes/build-binaries.sh and build-images.sh done; apt
# inside the node (Debian's containerd, runc, iptables, CNI plugins).
set -euo pipefail
N=${1:?node container}
VERSION=${2:-v1.33.13}
# shellcheck source=dirs.sh
. "$(dirname "$0")/dirs.sh"
BIN=$(k8s_dir kubernetes-binaries "$VERSION")/bin IMAGES=$(k8s_dir kubernetes-images "$VERSION")
PAUSE=$(grep /pause: "$IMAGES/images.txt")
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/16} POD_CIDR=${POD_CIDR:-10.244.0.0/16}
NODE_POD_CIDR=${NODE_POD_CIDR:-10.244.0.0/24}
CGROUP_MODE=${CGROUP_MODE:-cgroupfs}
JOIN_FROM=${JOIN_FROM:-}
CNI_DIR=$(k8s_dir cni-plugins "${CNI_VERSION:-v1.9.1}") CRICTL=$(k8s_dir crictl "${CRICTL_VERSION:-v1.34.0}")/crictl
KUBECTL=(docker exec -i "${JOIN_FROM:-$N}" kubectl --kubeconfig /etc/kubernetes/admin.conf)
x() { docker exec -i "$N" "$@"; }
t0=$SECONDS; step() { printf '== [%4d s] %s\n' $((SECONDS - t0)) "$*"; }

step "packages"
x sh -c 'command -v containerd >/dev/null && [ -d /usr/lib/cni ] || { apt-get update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd runc iptables conntrack socat ethtool \
  kmod containernetworking-plugins >/dev/null 2>&1; }'

if [ "$CGROUP_MODE" = systemd ]; then
  SYSTEMD_CGROUP=true KUBELET_CGROUPS="cgroupDriver: systemd"
else
step "cgroup root for kubelet (host cgroup namespace: cgroupfs driver under the node's own cgroup)"
CG=$(x sh -c 'c=$(grep name=systemd /proc/1/cgroup | cut -d: -f3); echo ${c%/init.scope}')
SYSTEMD_CGROUP=false KUBELET_CGROUPS="cgroupDriver: cgroupfs
cgroupRoot: $CG/kubelet"
x sh -s "$CG" <<'EOF'
CG=$1
for c in /sys/fs/cgroup/*; do case $c in */unified) continue;; esac
  mountpoint -q "$c" || continue; mkdir -p "$c$CG/kubelet"; done
for f in cpuset.cpus cpuset.mems; do cat /sys/fs/cgroup/cpuset$CG/$f > /sys/fs/cgroup/cpuset$CG/kubelet/$f; done
EOF
fi

step "containerd config"
x sh -c 'mkdir -p /etc/containerd && cat > /etc/containerd/config.toml' <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  # the node lacks CAP_SYS_RESOURCE: never try to lower oom_score_adj
  restrict_oom_score_adj = true
  tolerate_missing_hugepages_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = $SYSTEMD_CGROUP
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
EOF
x mkdir -p /opt/cni/bin
if [ -x "$CNI_DIR/bridge" ]; then
  for f in bridge host-local loopback portmap; do docker cp "$CNI_DIR/$f" "$N:/opt/cni/bin/$f"; done
else
  x sh -c 'cp /usr/lib/cni/* /opt/cni/bin/'
fi
[ -x "$CRICTL" ] && docker cp "$CRICTL" "$N:/usr/bin/crictl" &&
  x sh -c 'echo "runtime-endpoint: unix:///run/containerd/containerd.sock" > /etc/crictl.yaml'
x systemctl restart containerd

step "images"
for t in "$IMAGES"/*.tar; do x ctr -n k8s.io images import --all-platforms - < "$t" >/dev/null; done
x ctr -n k8s.io images ls -q | grep -v '^sha256:'

step "kubelet, kubeadm, kubectl"
for b in kubeadm kubelet kubectl; do docker cp "$BIN/$b" "$N:/usr/bin/$b"; done
x sh -c 'cat > /etc/systemd/system/kubelet.service' <<'EOF'
[Unit]
Description=kubelet: The Kubernetes Node Agent
Wants=network-online.target containerd.service
After=network-online.target containerd.service

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=1s
KillMode=process

[Install]
WantedBy=multi-user.target
EOF
x sh -c 'mkdir -p /etc/systemd/system/kubelet.service.d && cat > /etc/systemd/system/kubelet.service.d/10-kubeadm.conf' <<'EOF'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS
EOF
x sh -c 'systemctl daemon-reload && systemctl enable kubelet 2>/dev/null'

step "network: service CIDR blackholed (no leak outside the lab), Docker DNS reachable from pods (as kind)"
IP=$(x sh -c "ip -4 -o addr show eth0 | awk '{print \$4}' | cut -d/ -f1")
x sh -s "$IP" "$SERVICE_CIDR" <<'EOF'
IP=$1
ip route replace blackhole "$2"
if ! grep -q "nameserver $IP" /etc/resolv.conf; then
  iptables-save | sed -e "s/-d 127.0.0.11/-d $IP/g" \
    -e "s/-A OUTPUT \(.*\) -j DOCKER_OUTPUT/\0\n-A PREROUTING \1 -j DOCKER_OUTPUT/" \
    -e "s/--to-source :53/--to-source $IP:53/g" \
    -e "s/p -j DNAT --to-destination 127.0.0.11/p --dport 53 -j DNAT --to-destination 127.0.0.11/g" | iptables-restore
  cp /etc/resolv.conf /etc/resolv.conf.original
  sed -e "s/127.0.0.11/$IP/" /etc/resolv.conf.original > /etc/resolv.conf
fi
sysctl -qw net.ipv4.conf.all.route_localnet=1
mkdir -p /etc/cni/net.d
EOF
x sh -c 'cat > /etc/cni/net.d/10-bridge.conflist' <<EOF
{
  "cniVersion": "0.4.0",
  "name": "lab-bridge",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

NAME=$(x hostname)
if [ -n "$JOIN_FROM" ]; then
step "kubeadm join $JOIN_FROM"
read -r _ _ endpoint _ token _ hash < <(docker exec "$JOIN_FROM" kubeadm token create --print-join-command)
x sh -c 'cat > /etc/kubeadm-join.yaml' <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: $endpoint
    token: $token
    caCertHashes: [$hash]
nodeRegistration:
  name: $NAME
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  kubeletExtraArgs:
    - name: node-ip
      value: $IP
skipPhases:
  - preflight
EOF
x sh -c '[ -f /etc/kubernetes/kubelet.conf ] || kubeadm join --config /etc/kubeadm-join.yaml' | tail -3
CP_IP=${endpoint%:*}
CP_CIDR=$("${KUBECTL[@]}" get node "$(docker exec "$JOIN_FROM" hostname)" -o jsonpath='{.spec.podCIDR}')
docker exec "$JOIN_FROM" ip route replace "$NODE_POD_CIDR" via "$IP"
x ip route replace "$CP_CIDR" via "$CP_IP"
else
step "kubeadm init"
x sh -c 'cat > /etc/kubeadm.yaml' <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: $IP
  bindPort: 6443
nodeRegistration:
  name: $NAME
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  kubeletExtraArgs:
    - name: node-ip
      value: $IP
skipPhases:
  - preflight
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $VERSION
clusterName: $NAME
controlPlaneEndpoint: $IP:6443
networking:
  podSubnet: $POD_CIDR
  serviceSubnet: $SERVICE_CIDR
apiServer:
  certSANs: [localhost, 127.0.0.1, $IP]
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
$KUBELET_CGROUPS
failSwapOn: false
imageGCHighThresholdPercent: 100
evictionHard:
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
iptables:
  minSyncPeriod: 1s
conntrack:
  maxPerCore: 0
EOF
x sh -c '[ -f /etc/kubernetes/admin.conf ] || kubeadm init --config /etc/kubeadm.yaml' | tail -3
fi

step "wait for Ready"
for _ in $(seq 60); do
  "${KUBECTL[@]}" get node "$NAME" --no-headers 2>/dev/null | grep -qw Ready && break
  sleep 2
done
sleep 20
"${KUBECTL[@]}" get nodes -o wide
"${KUBECTL[@]}" get pods -A -o wide
step "done"
