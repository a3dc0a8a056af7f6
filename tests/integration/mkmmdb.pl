#!/usr/bin/perl
# tests/integration/mkmmdb.pl -- write the test GeoIP databases (MaxMind DB format)
#   mkmmdb.pl OUTDIR    writes OUTDIR/country.mmdb and OUTDIR/asn.mmdb
# Shaped like GeoLite2-Country (country.iso_code, registered_country.iso_code)
# and GeoLite2-ASN (autonomous_system_number, autonomous_system_organization),
# IPv6 trees with IPv4 in ::/96, covering the fake internet's addresses
# (tests/fakenet/gen.py) and a few loopback "clients".  Debian package:
# libmaxmind-db-writer-perl.  The map below is what the tests rely on.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: mkmmdb.pl OUTDIR\n";
-d $out or die "mkmmdb.pl: $out is not a directory\n";

# network => country.  The fake internet's names (gen.py):
#   alpha.com 192.0.2.10-13, 2001:db8::10  US      beta.net 192.0.2.20  DE
#   secure.org 192.0.2.50                  NL      bogus.org 192.0.2.66 FR
#   zone00.com 198.18.0.x, 2001:db8:0::x   (in 2001:db8::/64 with alpha: US)
#   zone01.net 198.18.1.x, 2001:db8:1::x   KP
#   zone02.com 198.18.2.x, 2001:db8:2::x   RU
#   zone03.net 198.18.3.x, 2001:db8:3::x   CN      other zoneNN            US
# and ASNs: 192.0.2.0/24 and 2001:db8::/32 AS64500, 198.18.0.0/16 AS64501,
# but zone03.net (198.18.3.0/24, 2001:db8:3::/48) AS64666.
# Clients on loopback: 127.0.0.1 and ::1 have no country (internal);
# 127.0.0.3 DE, 127.0.0.4 FR, 127.0.0.5 JP; 127.0.0.6 only a
# registered_country (BR), as anycast ranges are.
my %country = (
    '192.0.2.0/28'     => 'US',
    '192.0.2.16/28'    => 'DE',
    '192.0.2.48/28'    => 'NL',
    '192.0.2.64/28'    => 'FR',
    '198.18.0.0/16'    => 'US',
    '198.18.1.0/24'    => 'KP',
    '198.18.2.0/24'    => 'RU',
    '198.18.3.0/24'    => 'CN',
    '2001:db8::/64'    => 'US',
    '2001:db8:1::/48'  => 'KP',
    '2001:db8:2::/48'  => 'RU',
    '2001:db8:3::/48'  => 'CN',
    '127.0.0.3/32'     => 'DE',
    '127.0.0.4/32'     => 'FR',
    '127.0.0.5/32'     => 'JP',
);
# network => [ ASN, organisation ]
my %asn = (
    '192.0.2.0/24'     => [ 64500, 'Documentation Networks' ],
    '198.18.0.0/16'    => [ 64501, 'Benchmark Hosting' ],
    '198.18.3.0/24'    => [ 64666, 'Bulletproof Hosting' ],
    '2001:db8::/32'    => [ 64500, 'Documentation Networks' ],
    '2001:db8:3::/48'  => [ 64666, 'Bulletproof Hosting' ],
);

sub tree {
    my ($type, $desc, $types) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => $desc },
        map_key_type_callback    => sub { $types->{ $_[0] } // 'utf8_string' },
        # the test ranges are all reserved ones (TEST-NET, 198.18/15,
        # 2001:db8::/32, loopback): keep them
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => 1,
    );
}

sub write_tree {
    my ($t, $path) = @_;
    open(my $fh, '>:raw', "$path.tmp") or die "mkmmdb.pl: $path.tmp: $!\n";
    $t->write_tree($fh);
    close($fh) or die "mkmmdb.pl: $path.tmp: $!\n";
    rename("$path.tmp", $path) or die "mkmmdb.pl: $path: $!\n";
}

my $ct = tree('GeoLite2-Country', 'egressd test countries',
    { country => 'map', registered_country => 'map', iso_code => 'utf8_string' });
# longest prefixes last, so they split the shorter ones
for my $net (sort { (split m{/}, $a)[1] <=> (split m{/}, $b)[1] } keys %country) {
    my $cc = $country{$net};
    $ct->insert_network($net,
        { country => { iso_code => $cc }, registered_country => { iso_code => $cc } });
}
$ct->insert_network('127.0.0.6/32', { registered_country => { iso_code => 'BR' } });
write_tree($ct, "$out/country.mmdb");

my $at = tree('GeoLite2-ASN', 'egressd test autonomous systems',
    { autonomous_system_number => 'uint32',
      autonomous_system_organization => 'utf8_string' });
for my $net (sort { (split m{/}, $a)[1] <=> (split m{/}, $b)[1] } keys %asn) {
    $at->insert_network($net, { autonomous_system_number => $asn{$net}[0],
        autonomous_system_organization => $asn{$net}[1] });
}
write_tree($at, "$out/asn.mmdb");
