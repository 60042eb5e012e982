#include "source/mockapi/nationality_data.h"

#include <array>

namespace dataforge::mockapi {
namespace {

using N = Name;
using P = Place;
using S = std::string_view;

constexpr N kUsM[] = {{"James", "james"},   {"Brandon", "brandon"}, {"Randy", "randy"},
                      {"Calvin", "calvin"}, {"Wyatt", "wyatt"},     {"Levi", "levi"}};
constexpr N kUsF[] = {{"Jennie", "jennie"},
                      {"Brittany", "brittany"},
                      {"Joann", "joann"},
                      {"Tracy", "tracy"},
                      {"Kaylee", "kaylee"}};
constexpr N kUsL[] = {{"Parker", "parker"}, {"Morrison", "morrison"}, {"Stone", "stone"},
                      {"Fowler", "fowler"}, {"Hughes", "hughes"},     {"Reyes", "reyes"}};
constexpr P kUsP[] = {{"Manchester", "North Carolina"},
                      {"Tacoma", "Washington"},
                      {"Fresno", "California"},
                      {"Dayton", "Ohio"}};
constexpr S kUsS[] = {"Lone Wolf Trail", "Hamilton Ave", "Pecan Acres Ln", "W Sherman Dr"};

constexpr N kGbM[] = {
    {"Oliver", "oliver"}, {"Harry", "harry"}, {"Aiden", "aiden"}, {"Lewis", "lewis"}};
constexpr N kGbF[] = {
    {"Amelia", "amelia"}, {"Isobel", "isobel"}, {"Chloe", "chloe"}, {"Megan", "megan"}};
constexpr N kGbL[] = {
    {"Adams", "adams"}, {"Walker", "walker"}, {"Dixon", "dixon"}, {"Holmes", "holmes"}};
constexpr P kGbP[] = {{"Bristol", "Avon"}, {"Leeds", "West Yorkshire"}, {"Truro", "Cornwall"}};
constexpr S kGbS[] = {"Church Road", "Victoria Street", "Mill Lane", "The Green"};

constexpr N kDeM[] = {
    {"Horst-Günter", "horst-gunter"}, {"Jörg", "jorg"}, {"Lukas", "lukas"}, {"Björn", "bjorn"}};
constexpr N kDeF[] = {
    {"Jördis", "jordis"}, {"Käthe", "kathe"}, {"Lena", "lena"}, {"Ursula", "ursula"}};
constexpr N kDeL[] = {
    {"Müller", "muller"}, {"Schäfer", "schafer"}, {"Krüger", "kruger"}, {"Vogel", "vogel"}};
constexpr P kDeP[] = {
    {"Düsseldorf", "Nordrhein-Westfalen"}, {"Würzburg", "Bayern"}, {"Görlitz", "Sachsen"}};
constexpr S kDeS[] = {"Ringstraße", "Schulstraße", "Birkenweg", "Mühlenweg"};

constexpr N kFrM[] = {{"Léon", "leon"}, {"Naël", "nael"}, {"Théo", "theo"}, {"Mathis", "mathis"}};
constexpr N kFrF[] = {{"Léa", "lea"}, {"Chloé", "chloe"}, {"Inès", "ines"}, {"Margaux", "margaux"}};
constexpr N kFrL[] = {
    {"Hubert", "hubert"}, {"Meyer", "meyer"}, {"Lefèvre", "lefevre"}, {"Garnier", "garnier"}};
constexpr P kFrP[] = {{"Nîmes", "Gard"}, {"Besançon", "Doubs"}, {"Lyon", "Rhône"}};
constexpr S kFrS[] = {"Rue de la Mairie", "Place du 8 Février 1962", "Avenue Jean-Jaurès"};

constexpr N kIrM[] = {{"ایلیا", "ylya"}, {"امیرعلی", "amyraly"}, {"محمدطاها", "mhmdtaha"}};
constexpr N kIrF[] = {{"نازنین زهرا", "naznynzhra"}, {"ستایش", "staysh"}, {"یسنا", "ysna"}};
constexpr N kIrL[] = {{"جعفری", "jafry"}, {"رضاییان", "rzayyan"}, {"کامروا", "kamrwa"}};
constexpr P kIrP[] = {{"تهران", "خراسان جنوبی"}, {"اصفهان", "مرکزی"}, {"شیراز", "فارس"}};
constexpr S kIrS[] = {"پارک 17 شهریور", "میدان ولیعصر", "کارگر شمالی"};

constexpr N kTrM[] = {{"Oğuzhan", "oguzhan"}, {"Çağlar", "caglar"}, {"Kerem", "kerem"}};
constexpr N kTrF[] = {{"Sedef", "sedef"}, {"Gülşen", "gulsen"}, {"Şeyma", "seyma"}};
constexpr N kTrL[] = {{"Sepetçi", "sepetci"}, {"Tunçeri", "tunceri"}, {"Aykaç", "aykac"}};
constexpr P kTrP[] = {{"Kırıkkale", "Ardahan"}, {"İzmir", "İzmir"}, {"Eskişehir", "Eskişehir"}};
constexpr S kTrS[] = {"Atatürk Sk", "Fatih Sultan Mehmet Cd", "Bağdat Cd"};

constexpr N kRsM[] = {{"Ljubiša", "ljubisa"}, {"Spasoje", "spasoje"}, {"Dušan", "dusan"}};
constexpr N kRsF[] = {{"Magdalena", "magdalena"}, {"Jelena", "jelena"}, {"Milica", "milica"}};
constexpr N kRsL[] = {{"Kojić", "kojic"}, {"Šotra", "sotra"}, {"Peković", "pekovic"}};
constexpr P kRsP[] = {{"Čačak", "Moravica"}, {"Niš", "Nišava"}, {"Šabac", "Mačva"}};
constexpr S kRsS[] = {"Kneza Miloša", "Cara Dušana", "Njegoševa"};

constexpr N kUaM[] = {{"Тарас", "taras"}, {"Богдан", "bogdan"}, {"Ярослав", "yaroslav"}};
constexpr N kUaF[] = {{"Оксана", "oksana"}, {"Злата", "zlata"}, {"Людмила", "lyudmila"}};
constexpr N kUaL[] = {
    {"Шевченко", "shevchenko"}, {"Коваленко", "kovalenko"}, {"Лисенко", "lisenko"}};
constexpr P kUaP[] = {
    {"Житомир", "Житомирська"}, {"Львів", "Львівська"}, {"Полтава", "Полтавська"}};
constexpr S kUaS[] = {"Шевченка", "Лесі Українки", "Городоцька"};

constexpr N kNoM[] = {{"Mathis", "mathis"}, {"Sindre", "sindre"}, {"Ørjan", "orjan"}};
constexpr N kNoF[] = {{"Åse", "ase"}, {"Ingrid", "ingrid"}, {"Sølvi", "solvi"}};
constexpr N kNoL[] = {{"Berthelsen", "berthelsen"}, {"Haugen", "haugen"}, {"Bråthen", "brathen"}};
constexpr P kNoP[] = {{"Bybrua", "Buskerud"}, {"Tromsø", "Troms"}, {"Ålesund", "Møre og Romsdal"}};
constexpr S kNoS[] = {"Linaaes gate", "Kristian IVs gate", "Akebakkeskogen"};

constexpr N kFiM[] = {{"Onni", "onni"}, {"Väinö", "vaino"}, {"Eetu", "eetu"}};
constexpr N kFiF[] = {{"Aino", "aino"}, {"Jenni", "jenni"}, {"Siiri", "siiri"}};
constexpr N kFiL[] = {{"Mäki", "maki"}, {"Kivelä", "kivela"}, {"Niskanen", "niskanen"}};
constexpr P kFiP[] = {{"Hämeenlinna", "Kanta-Häme"}, {"Oulu", "Pohjois-Pohjanmaa"}};
constexpr S kFiS[] = {"Hämeenkatu", "Pispalan Valtatie", "Korkeavuorenkatu"};

constexpr N kDkM[] = {{"Søren", "soren"}, {"Mikkel", "mikkel"}, {"Asger", "asger"}};
constexpr N kDkF[] = {{"Maja", "maja"}, {"Frida", "frida"}, {"Ea", "ea"}};
constexpr N kDkL[] = {
    {"Jørgensen", "jorgensen"}, {"Nielsen", "nielsen"}, {"Østergaard", "ostergaard"}};
constexpr P kDkP[] = {{"København", "Hovedstaden"}, {"Aarhus", "Midtjylland"}};
constexpr S kDkS[] = {"Møllevej", "Bakkegårdsvej", "Skolegade"};

constexpr N kEsM[] = {{"Ángel", "angel"}, {"Joaquín", "joaquin"}, {"Iván", "ivan"}};
constexpr N kEsF[] = {{"Lucía", "lucia"}, {"Begoña", "begona"}, {"Inés", "ines"}};
constexpr N kEsL[] = {{"Núñez", "nunez"}, {"Gómez", "gomez"}, {"Ibáñez", "ibanez"}};
constexpr P kEsP[] = {{"Málaga", "Andalucía"}, {"Logroño", "La Rioja"}, {"Cádiz", "Andalucía"}};
constexpr S kEsS[] = {"Calle de Alcalá", "Paseo de Extremadura", "Avenida de Andalucía"};

constexpr N kBrM[] = {{"Valentim", "valentim"}, {"João", "joao"}, {"Caetano", "caetano"}};
constexpr N kBrF[] = {{"Luíza", "luiza"}, {"Débora", "debora"}, {"Conceição", "conceicao"}};
constexpr N kBrL[] = {{"da Paz", "dapaz"}, {"Araújo", "araujo"}, {"Gonçalves", "goncalves"}};
constexpr P kBrP[] = {{"Cabo de Santo Agostinho", "Roraima"}, {"São José", "Goiás"}};
constexpr S kBrS[] = {"Rua São Paulo", "Rua Belo Horizonte", "Rua Quinze de Novembro"};

constexpr N kMxM[] = {{"Óscar", "oscar"}, {"Adrián", "adrian"}, {"Emiliano", "emiliano"}};
constexpr N kMxF[] = {{"Ximena", "ximena"}, {"Mónica", "monica"}, {"Guadalupe", "guadalupe"}};
constexpr N kMxL[] = {{"Saldaña", "saldana"}, {"Rosales", "rosales"}, {"Quiñones", "quinones"}};
constexpr P kMxP[] = {{"Zacatecas", "Zacatecas"}, {"Tlaquepaque", "Jalisco"}};
constexpr S kMxS[] = {"Calle Hidalgo", "Avenida Juárez", "Privada Morelos"};

constexpr N kInM[] = {{"Arjun", "arjun"}, {"Vihaan", "vihaan"}, {"Kabir", "kabir"}};
constexpr N kInF[] = {{"Ananya", "ananya"}, {"Diya", "diya"}, {"Saanvi", "saanvi"}};
constexpr N kInL[] = {{"Nair", "nair"}, {"Kulkarni", "kulkarni"}, {"Shetty", "shetty"}};
constexpr P kInP[] = {{"Pune", "Maharashtra"}, {"Mysuru", "Karnataka"}};
constexpr S kInS[] = {"Lajpat Nagar", "MG Road", "Park Street"};

constexpr N kAuM[] = {{"Jackson", "jackson"}, {"Lachlan", "lachlan"}};
constexpr N kAuF[] = {{"Matilda", "matilda"}, {"Zara", "zara"}};
constexpr N kAuL[] = {{"Murray", "murray"}, {"Kelly", "kelly"}};
constexpr P kAuP[] = {{"Canberra", "Australian Capital Territory"}, {"Hobart", "Tasmania"}};
constexpr S kAuS[] = {"Shady Ln Dr", "Country Club Rd"};

constexpr N kCaM[] = {{"Félix", "felix"}, {"Nathan", "nathan"}};
constexpr N kCaF[] = {{"Chloé", "chloe"}, {"Abigail", "abigail"}};
constexpr N kCaL[] = {{"Côté", "cote"}, {"Roy", "roy"}};
constexpr P kCaP[] = {{"Trois-Rivières", "Québec"}, {"Stratford", "Ontario"}};
constexpr S kCaS[] = {"Balmoral St", "Parliament St"};

constexpr N kChM[] = {{"Noé", "noe"}, {"Ramon", "ramon"}};
constexpr N kChF[] = {{"Mélina", "melina"}, {"Lou", "lou"}};
constexpr N kChL[] = {{"Dupuis", "dupuis"}, {"Girard", "girard"}};
constexpr P kChP[] = {{"Zürich", "Zürich"}, {"Genève", "Genève"}};
constexpr S kChS[] = {"Rue Dumenge", "Place de L'Abbé-Georges-Hénocque"};

constexpr N kIeM[] = {{"Seán", "sean"}, {"Oisín", "oisin"}};
constexpr N kIeF[] = {{"Aoife", "aoife"}, {"Siobhán", "siobhan"}};
constexpr N kIeL[] = {{"O'Brien", "obrien"}, {"Ó Súilleabháin", "osuilleabhain"}};
constexpr P kIeP[] = {{"Galway", "Galway"}, {"Cork", "Cork"}};
constexpr S kIeS[] = {"Grafton Street", "Patrick Street"};

constexpr N kNlM[] = {{"Jeroen", "jeroen"}, {"Daan", "daan"}};
constexpr N kNlF[] = {{"Ineke", "ineke"}, {"Fenna", "fenna"}};
constexpr N kNlL[] = {{"van den Berg", "vandenberg"}, {"de Vries", "devries"}};
constexpr P kNlP[] = {{"Den Haag", "Zuid-Holland"}, {"Grou", "Friesland"}};
constexpr S kNlS[] = {"Kerkstraat", "Molenweg"};

constexpr N kNzM[] = {{"Nikau", "nikau"}, {"Tyler", "tyler"}};
constexpr N kNzF[] = {{"Aroha", "aroha"}, {"Ruby", "ruby"}};
constexpr N kNzL[] = {{"Ngata", "ngata"}, {"Wilson", "wilson"}};
constexpr P kNzP[] = {{"Whanganui", "Manawatu-Wanganui"}, {"Napier", "Hawke'S Bay"}};
constexpr S kNzS[] = {"Taupo Quay", "Ponsonby Road"};

constexpr std::array kAll = {
    Nationality{"US", "United States", kUsM, kUsF, kUsL, kUsP, kUsS, PostcodeKind::kInt5, "SSN",
                "(###) ###-####", false},
    Nationality{"GB", "United Kingdom", kGbM, kGbF, kGbL, kGbP, kGbS, PostcodeKind::kGb, "NINO",
                "0###-###-####", false},
    Nationality{"DE", "Germany", kDeM, kDeF, kDeL, kDeP, kDeS, PostcodeKind::kInt5, "SVNR",
                "0###-#######", false},
    Nationality{"FR", "France", kFrM, kFrF, kFrL, kFrP, kFrS, PostcodeKind::kInt5, "INSEE",
                "0#-##-##-##-##", true},
    Nationality{"IR", "Iran", kIrM, kIrF, kIrL, kIrP, kIrS, PostcodeKind::kInt5, "", "0##-########",
                false},
    Nationality{"TR", "Turkey", kTrM, kTrF, kTrL, kTrP, kTrS, PostcodeKind::kInt5, "",
                "(###)-###-####", false},
    Nationality{"RS", "Serbia", kRsM, kRsF, kRsL, kRsP, kRsS, PostcodeKind::kInt5, "SID",
                "0##-####-###", false},
    Nationality{"UA", "Ukraine", kUaM, kUaF, kUaL, kUaP, kUaS, PostcodeKind::kInt5, "",
                "(0##) ###-####", false},
    Nationality{"NO", "Norway", kNoM, kNoF, kNoL, kNoP, kNoS, PostcodeKind::kDigits4String, "FN",
                "########", false},
    Nationality{"FI", "Finland", kFiM, kFiF, kFiL, kFiP, kFiS, PostcodeKind::kInt5, "HETU",
                "0#-###-###", false},
    Nationality{"DK", "Denmark", kDkM, kDkF, kDkL, kDkP, kDkS, PostcodeKind::kInt4, "CPR",
                "########", false},
    Nationality{"ES", "Spain", kEsM, kEsF, kEsL, kEsP, kEsS, PostcodeKind::kInt5, "DNI",
                "9##-###-###", false},
    Nationality{"BR", "Brazil", kBrM, kBrF, kBrL, kBrP, kBrS, PostcodeKind::kInt5, "CPF",
                "(##) ####-####", false},
    Nationality{"MX", "Mexico", kMxM, kMxF, kMxL, kMxP, kMxS, PostcodeKind::kInt5, "NSS",
                "(###) ### ####", false},
    Nationality{"IN", "India", kInM, kInF, kInL, kInP, kInS, PostcodeKind::kInt5, "UIDAI",
                "#########", false},
    Nationality{"AU", "Australia", kAuM, kAuF, kAuL, kAuP, kAuS, PostcodeKind::kInt4, "TFN",
                "0#-####-####", false},
    Nationality{"CA", "Canada", kCaM, kCaF, kCaL, kCaP, kCaS, PostcodeKind::kCa, "SIN",
                "###-###-####", false},
    Nationality{"CH", "Switzerland", kChM, kChF, kChL, kChP, kChS, PostcodeKind::kInt4, "AVS",
                "07# ### ## ##", true},
    Nationality{"IE", "Ireland", kIeM, kIeF, kIeL, kIeP, kIeS, PostcodeKind::kInt5, "PPS",
                "0##-###-####", false},
    Nationality{"NL", "Netherlands", kNlM, kNlF, kNlL, kNlP, kNlS, PostcodeKind::kNl, "BSN",
                "(0###) ######", false},
    Nationality{"NZ", "New Zealand", kNzM, kNzF, kNzL, kNzP, kNzS, PostcodeKind::kInt4, "",
                "(###)-###-####", false},
};

}  // namespace

std::span<const Nationality> Nationalities() {
  return kAll;
}

}  // namespace dataforge::mockapi
